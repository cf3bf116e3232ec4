/* host_runner.c: runs a generated model on the host for verification.
 * Usage: host_runner INPUTS OUTPUTS. INPUTS holds N inputs of SAPOOL_INPUT_BYTES each (every graph input packed,
 * see model.h), back to back; OUTPUTS receives the N outputs of SAPOOL_OUTPUT_BYTES each. Exit status 0 on success. */
#include <stdio.h>

#include "model.h"

int main(int argc, char **argv)
{
    static uint8_t input[SAPOOL_INPUT_BYTES];
    static uint8_t output[SAPOOL_OUTPUT_BYTES];
    FILE *inputs;
    FILE *outputs;
    int status = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUTS OUTPUTS\n", argv[0]);
        return 2;
    }
    inputs = fopen(argv[1], "rb");
    outputs = fopen(argv[2], "wb");
    if (inputs == NULL || outputs == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    while (status == 0 && fread(input, 1, sizeof input, inputs) == sizeof input) {
        if (sapool_invoke(input, output) != 0) {
            fprintf(stderr, "sapool_invoke failed\n");
            status = 1;
        } else if (fwrite(output, 1, sizeof output, outputs) != sizeof output) {
            status = 2;
        }
    }
    fclose(inputs);
    if (fclose(outputs) != 0) {
        status = 2;
    }
    return status;
}
