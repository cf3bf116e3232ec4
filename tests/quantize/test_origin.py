"""Module paths read back from litert-torch's tensor names."""

from sapool.quantize.origin import describe, module_path

WRAPPER = "litert_torch._convert.to_channel_last_io.ChannelLastIOWrapper/sapool.models.tiny.McuNet_wrapped"


def test_a_module_stack_becomes_the_named_modules_path():
    name = (f"{WRAPPER}/torch.nn.modules.container.Sequential_stem/torch.nn.modules.container.Sequential_conv/"
            f"torch.nn.modules.activation.ReLU6_act;;{WRAPPER}/torch.nn.modules.conv.Conv2d_conv;")
    assert module_path(name) == "stem.conv.act"  # first location only, attribute names keep their underscores


def test_attribute_names_with_underscores_and_counters():
    name = f"{WRAPPER}/sapool.models.sap.SAPool_pool/torch.nn.modules.container.Sequential_patch_embed;2"
    assert module_path(name) == "pool.patch_embed"


def test_names_that_are_not_module_stacks():
    assert module_path("serving_default_output_0_output") is None
    assert module_path(f"{WRAPPER};3") == ""
    assert describe("serving_default_output_0_output") == "tensor 'serving_default_output_0_output'"
    assert describe(f"{WRAPPER}/sapool.models.sap.SAPool_pool;1") == "module pool"
