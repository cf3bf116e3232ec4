/* host_runner.c: runs a generated model on the host for verification, through model.h's API only.
 * Usage: host_runner INPUTS OUTPUTS. INPUTS holds N rows of SAPOOL_INPUT_BYTES each (every graph input packed back
 * to back in graph order, see model.h); each input is read straight into the model's arena (sapool_model_input).
 * OUTPUTS receives N rows of SAPOOL_OUTPUT_BYTES (every output packed the same way). Exit status 0 on success. */
#include <stdio.h>

#include "model.h"

/* Reads one row into the model's inputs: 1 when a whole row was read, 0 at the end of the file. */
static int read_row(FILE *file)
{
    int i;
    for (i = 0; i < SAPOOL_MODEL_NUM_INPUTS; ++i) {
        size_t bytes = sapool_model_input_bytes(i);
        if (fread((void *)sapool_model_input(i), 1, bytes, file) != bytes) {
            return 0;
        }
    }
    return 1;
}

static int write_row(FILE *file)
{
    int i;
    for (i = 0; i < SAPOOL_MODEL_NUM_OUTPUTS; ++i) {
        size_t bytes = sapool_model_output_bytes(i);
        if (fwrite((const void *)sapool_model_output(i), 1, bytes, file) != bytes) {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
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
    if (sapool_model_init() != SAPOOL_MODEL_OK) {
        fprintf(stderr, "sapool_model_init failed\n");
        return 1;
    }
    while (status == 0 && read_row(inputs)) {
        int code = sapool_model_invoke();
        if (code != SAPOOL_MODEL_OK) {
            fprintf(stderr, "sapool_model_invoke returned %d\n", code);
            status = 1;
        } else if (!write_row(outputs)) {
            status = 2;
        }
    }
    fclose(inputs);
    if (fclose(outputs) != 0) {
        status = 2;
    }
    return status;
}
