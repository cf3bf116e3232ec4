/* The firmware's main(): run the compiled model on every input row the host gives (console.h).
 *
 * A row is SAPOOL_INPUT_BYTES (every graph input packed in graph order, each in its own type, see model.h); each
 * is read straight into the model's arena (sapool_model_input: model.h's API, nothing else), and the outputs
 * (every graph output packed) go back the same way. On the console it prints, one record per line (parsed by
 * sapool.firmware.emulator):
 *   sapool-harness 3 <inputs> <layers>
 *   input <n> <ticks>           for each input (ticks of the whole sapool_model_invoke call)
 *   layer <i> <ticks> <macs> <name>   for each layer, ticks summed over all inputs
 *   stack <high-water bytes> <reserved bytes> <bytes in use when sapool_model_invoke is called>
 * (the stack the model itself needs is the high-water mark minus what the harness had in use at the call)
 *   done
 * The exit code (startup.h) says what went wrong, if anything.
 */
#include <stdint.h>

#include "console.h"
#include "model.h"
#include "profile.h"
#include "startup.h"


static int fail(const char *message) {
    console_write("sapool-harness error: ");
    console_write(message);
    console_write("\n");
    return SAPOOL_EXIT_IO_FAILED;
}

/* `name` (may be empty, to continue a line), then " <first> <second>" and the end of the line. */
static void write_record(const char *name, uint64_t first, uint64_t second) {
    console_write(name);
    console_write(" ");
    console_write_u64(first);
    console_write(" ");
    console_write_u64(second);
    console_write("\n");
}

/* One input row into the model's inputs, in place; 0 when every byte arrived. */
static int read_inputs(void) {
    for (int i = 0; i < SAPOOL_MODEL_NUM_INPUTS; ++i) {
        if (console_read_input((void *)sapool_model_input(i), sapool_model_input_bytes(i)) != 0) {
            return -1;
        }
    }
    return 0;
}

static int write_outputs(void) {
    for (int i = 0; i < SAPOOL_MODEL_NUM_OUTPUTS; ++i) {
        if (console_write_output((const void *)sapool_model_output(i), sapool_model_output_bytes(i)) != 0) {
            return -1;
        }
    }
    return 0;
}

int main(void) {
    long count = console_input_rows(SAPOOL_INPUT_BYTES);
    if (count <= 0) {
        return fail("no inputs, or not a whole number of input rows");
    }
    console_write("sapool-harness 3 ");
    console_write_u64((uint64_t)count);
    console_write(" ");
    console_write_u64(SAPOOL_NUM_LAYERS);
    console_write("\n");
    if (sapool_model_init() != SAPOOL_MODEL_OK) {
        console_write("sapool-harness error: sapool_model_init failed\n");
        return SAPOOL_EXIT_INVOKE_FAILED;
    }
    profile_start();
    uint32_t depth_at_invoke = 0;
    for (long n = 0; n < count; ++n) {
        if (read_inputs() != 0) {
            return fail("short read of an input row");
        }
        depth_at_invoke = stack_depth_bytes();
        uint64_t started = profile_now();
        int status = sapool_model_invoke();
        uint64_t ticks = profile_now() - started;
        if (status != 0) {
            console_write("sapool-harness error: sapool_model_invoke failed\n");
            return SAPOOL_EXIT_INVOKE_FAILED;
        }
        if (write_outputs() != 0) {
            return fail("short write of an output row");
        }
        write_record("input", (uint64_t)n, ticks);
    }
    console_end_io();
    for (int i = 0; i < SAPOOL_NUM_LAYERS; ++i) {
        console_write("layer ");
        console_write_u64((uint64_t)i);
        console_write(" ");
        console_write_u64(profile_layer_ticks(i));
        console_write(" ");
        console_write_u64(sapool_layer_macs[i]);
        console_write(" ");
        console_write(sapool_layer_names[i]);
        console_write("\n");
    }
    console_write("stack ");
    console_write_u64(stack_high_water_bytes());
    write_record("", stack_size_bytes(), depth_at_invoke);
    console_write("done\n");
    return SAPOOL_EXIT_OK;
}
