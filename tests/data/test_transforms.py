"""Per-batch preparation: resize, normalise with recorded statistics, seeded augmentation."""

import torch

from sapool.data.transforms import Normalization, channel_statistics, prepare_batch


def test_channel_statistics_match_a_direct_computation():
    images = torch.randint(0, 256, (50, 3, 7, 9), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    stats = channel_statistics(images, chunk=16)
    scaled = images.double() / 255
    assert torch.allclose(torch.tensor(stats.mean, dtype=torch.float64), scaled.mean(dim=(0, 2, 3)), atol=1e-9)
    expected_std = scaled.std(dim=(0, 2, 3), unbiased=False)
    assert torch.allclose(torch.tensor(stats.std, dtype=torch.float64), expected_std, atol=1e-9)


def test_prepare_batch_resizes_and_normalises():
    images = torch.full((4, 1, 28, 28), 51, dtype=torch.uint8)
    norm = Normalization((0.1,), (0.5,))
    batch = prepare_batch(images, 64, norm)
    assert batch.shape == (4, 1, 64, 64) and batch.dtype == torch.float32
    assert torch.allclose(batch, torch.full_like(batch, (51 / 255 - 0.1) / 0.5))


def test_prepare_batch_shrinks_large_images():
    images = torch.zeros((2, 3, 100, 80), dtype=torch.uint8)
    assert prepare_batch(images, 32, Normalization((0, 0, 0), (1, 1, 1))).shape == (2, 3, 32, 32)


def test_augmentation_depends_only_on_the_generator_seed():
    images = torch.randint(0, 256, (16, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    norm = Normalization((0.0,), (1.0,))
    first = prepare_batch(images, 32, norm, torch.Generator().manual_seed(7))
    again = prepare_batch(images, 32, norm, torch.Generator().manual_seed(7))
    other = prepare_batch(images, 32, norm, torch.Generator().manual_seed(8))
    plain = prepare_batch(images, 32, norm)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.equal(first, plain)


def test_augmented_images_are_shifted_or_mirrored_copies():
    """Every augmented image equals the original shifted by at most size/8 pixels, possibly mirrored."""
    images = torch.randint(1, 256, (8, 1, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    norm = Normalization((0.0,), (1.0,))
    plain = prepare_batch(images, 16, norm)
    augmented = prepare_batch(images, 16, norm, torch.Generator().manual_seed(4))
    padded = torch.nn.functional.pad(plain, (2, 2, 2, 2))
    for original, result in zip(padded, augmented):
        candidates = [original[:, y:y + 16, x:x + 16] for y in range(5) for x in range(5)]
        assert any(torch.equal(result, c) or torch.equal(result, c.flip(-1)) for c in candidates)
