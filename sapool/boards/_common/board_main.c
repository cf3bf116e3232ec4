/* main() of the standalone board image: no debugger, no host files, only the board's debug UART (board.h).
 *
 * Brings the part to its rated clock, starts the DWT cycle counter, runs the model once on every input compiled
 * into the image (samples.h) and prints, one record per line (parsed by sapool.firmware.board_run):
 *   sapool-board 1 <inputs> <layers>
 *   clock <core Hz> <how the clock tree came up, or which ready flag timed out and the clock it fell back to>
 *   dwt <1 when DWT CYCCNT counts, 0 when it does not (QEMU; v6-M and v8-M baseline cores have none)>
 *   input <n> <SysTick ticks> <DWT cycles>      the whole sapool_model_invoke call
 *   output <n> <the output bytes in hex>
 *   layer <i> <SysTick ticks> <macs> <name>       summed over all inputs
 *   stack <high-water bytes> <reserved bytes> <bytes in use when sapool_model_invoke is called>
 *   done
 * then runs the inputs again and again, one `run <pass> <n> <SysTick ticks> <DWT cycles>` line per inference, so
 * a terminal attached at any time sees the latency. SysTick runs from the core clock: on a board its ticks are
 * core cycles too; under QEMU's -icount they convert to instructions.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "console.h"
#include "model.h"
#include "profile.h"
#include "samples.h"
#include "startup.h"

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define DEMCR BOARD_REG(0xE000EDFCu)
#define DWT_CTRL BOARD_REG(0xE0001000u)
#define DWT_CYCCNT BOARD_REG(0xE0001004u)
#define DWT_LAR BOARD_REG(0xE0001FB0u)
#define DEMCR_TRCENA (1u << 24)
#define DWT_LAR_UNLOCK 0xC5ACCE55u

/* 1 when the cycle counter runs (Armv7-M ARM, C1.8 DWT); QEMU accepts the writes but does not count. */
static int dwt_start(void) {
    DEMCR |= DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_UNLOCK; /* the Cortex-M7's software lock; ignored where there is none */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;
    uint32_t before = DWT_CYCCNT;
    __asm__ volatile("nop\n\tnop\n\tnop\n\tnop" ::: "memory");
    return DWT_CYCCNT != before;
}
static uint32_t dwt_cycles(void) { return DWT_CYCCNT; }
#else
static int dwt_start(void) { return 0; }
static uint32_t dwt_cycles(void) { return 0u; }
#endif

static void write_fields(const char *name, const uint64_t *values, int count) {
    console_write(name);
    for (int i = 0; i < count; ++i) {
        console_write(" ");
        console_write_u64(values[i]);
    }
}

static void write_hex(const uint8_t *bytes, uint32_t size) {
    static const char digits[] = "0123456789abcdef";
    char pair[3] = {0, 0, 0};
    for (uint32_t i = 0; i < size; ++i) {
        pair[0] = digits[bytes[i] >> 4];
        pair[1] = digits[bytes[i] & 15u];
        console_write(pair);
    }
}

/* One inference on sample `n` (its graph inputs written into the arena through model.h's API): SysTick ticks
 * and DWT cycles of the sapool_model_invoke call; non-zero when it failed. */
static int invoke(uint32_t n, uint64_t *ticks, uint32_t *cycles) {
    const uint8_t *row = sapool_samples[n];
    for (int i = 0; i < SAPOOL_MODEL_NUM_INPUTS; ++i) {
        memcpy((void *)sapool_model_input(i), row, sapool_model_input_bytes(i));
        row += sapool_model_input_bytes(i);
    }
    uint32_t cycles_before = dwt_cycles();
    uint64_t started = profile_now();
    int status = sapool_model_invoke();
    *ticks = profile_now() - started;
    *cycles = dwt_cycles() - cycles_before;
    if (status != SAPOOL_MODEL_OK) {
        console_write("sapool-board error: sapool_model_invoke failed\n");
    }
    return status;
}

static void write_outputs(void) {
    for (int i = 0; i < SAPOOL_MODEL_NUM_OUTPUTS; ++i) {
        write_hex((const uint8_t *)sapool_model_output(i), (uint32_t)sapool_model_output_bytes(i));
    }
}

int main(void) {
    struct board_clock clock;
    board_clock_init(&clock);
    board_uart_init(clock.uart_hz);
    const uint64_t header[] = {1u, sapool_sample_count, SAPOOL_NUM_LAYERS};
    write_fields("\nsapool-board", header, 3);
    const uint64_t hz[] = {clock.core_hz};
    write_fields("\nclock", hz, 1);
    console_write(" ");
    console_write(clock.note);
    const uint64_t counting[] = {(uint64_t)dwt_start()};
    write_fields("\ndwt", counting, 1);
    console_write("\n");
    if (sapool_model_init() != SAPOOL_MODEL_OK) {
        console_write("sapool-board error: sapool_model_init failed\n");
        return SAPOOL_EXIT_INVOKE_FAILED;
    }
    profile_start();
    uint32_t depth_at_invoke = 0;
    uint64_t ticks;
    uint32_t cycles;
    for (uint32_t n = 0; n < sapool_sample_count; ++n) {
        depth_at_invoke = stack_depth_bytes();
        if (invoke(n, &ticks, &cycles) != 0) {
            return SAPOOL_EXIT_INVOKE_FAILED;
        }
        const uint64_t record[] = {n, ticks, cycles};
        write_fields("input", record, 3);
        write_fields("\noutput", record, 1);
        console_write(" ");
        write_outputs();
        console_write("\n");
    }
    for (int i = 0; i < SAPOOL_NUM_LAYERS; ++i) {
        const uint64_t layer[] = {(uint64_t)i, profile_layer_ticks(i), sapool_layer_macs[i]};
        write_fields("layer", layer, 3);
        console_write(" ");
        console_write(sapool_layer_names[i]);
        console_write("\n");
    }
    const uint64_t stack[] = {stack_high_water_bytes(), stack_size_bytes(), depth_at_invoke};
    write_fields("stack", stack, 3);
    console_write("\ndone\n");
    for (uint64_t pass = 1;; ++pass) {
        for (uint32_t n = 0; n < sapool_sample_count; ++n) {
            if (invoke(n, &ticks, &cycles) != 0) {
                return SAPOOL_EXIT_INVOKE_FAILED;
            }
            const uint64_t run[] = {pass, n, ticks, cycles};
            write_fields("run", run, 4);
            console_write("\n");
        }
    }
}
