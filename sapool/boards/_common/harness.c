/* The firmware's main(): run the compiled model on every input in the host file inputs.bin.
 *
 * inputs.bin holds N inputs of SAPOOL_INPUT_BYTES each (every graph input packed in graph order, each in its own
 * type, see model.h), back to back; outputs.bin receives the N outputs (every graph output packed) the same way. On the console it prints, one record per line (parsed by sapool.firmware.emulator):
 *   sapool-harness 2 <inputs> <layers>
 *   input <n> <ticks>           for each input (ticks of the whole sapool_invoke call)
 *   layer <i> <ticks> <macs> <name>   for each layer, ticks summed over all inputs
 *   stack <high-water bytes> <reserved bytes> <bytes in use when sapool_invoke is called>
 * (the stack the model itself needs is the high-water mark minus what the harness had in use at the call)
 *   done
 * The exit code (startup.h) says what went wrong, if anything.
 */
#include <stdint.h>

#include "console.h"
#include "model.h"
#include "profile.h"
#include "startup.h"

/* The application's own I/O buffers: in .harness, outside what the ELF check counts as the model's RAM. */
static uint8_t input[SAPOOL_INPUT_BYTES] __attribute__((section(".harness"), aligned(16)));
static uint8_t output[SAPOOL_OUTPUT_BYTES] __attribute__((section(".harness"), aligned(16)));

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

int main(void) {
    int inputs = console_open("inputs.bin", 0);
    if (inputs < 0) {
        return fail("cannot open inputs.bin");
    }
    long length = console_file_length(inputs);
    if (length <= 0 || length % SAPOOL_INPUT_BYTES != 0) {
        return fail("inputs.bin is not a whole number of inputs");
    }
    int outputs = console_open("outputs.bin", 1);
    if (outputs < 0) {
        return fail("cannot create outputs.bin");
    }
    long count = length / SAPOOL_INPUT_BYTES;
    console_write("sapool-harness 2 ");
    console_write_u64((uint64_t)count);
    console_write(" ");
    console_write_u64(SAPOOL_NUM_LAYERS);
    console_write("\n");
    profile_start();
    uint32_t depth_at_invoke = 0;
    for (long n = 0; n < count; ++n) {
        if (console_read(inputs, input, sizeof input) != 0) {
            return fail("short read from inputs.bin");
        }
        depth_at_invoke = stack_depth_bytes();
        uint64_t started = profile_now();
        int status = sapool_invoke(input, output);
        uint64_t ticks = profile_now() - started;
        if (status != 0) {
            console_write("sapool-harness error: sapool_invoke failed\n");
            return SAPOOL_EXIT_INVOKE_FAILED;
        }
        if (console_write_file(outputs, output, sizeof output) != 0) {
            return fail("short write to outputs.bin");
        }
        write_record("input", (uint64_t)n, ticks);
    }
    console_close(outputs);
    console_close(inputs);
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
