/* The inputs compiled into the standalone board image (firmware/samples.c, written by sapool): the held-out
 * samples the project was compiled with, or the inputs `sapool emulate` runs. Each row is one model input, every
 * graph input packed in graph order in its own type (SAPOOL_INPUT_BYTES, model.h), as inputs.bin's rows. */
#ifndef SAPOOL_SAMPLES_H
#define SAPOOL_SAMPLES_H

#include <stdint.h>

#include "model.h"

extern const uint32_t sapool_sample_count;
extern const uint8_t sapool_samples[][SAPOOL_INPUT_BYTES];

#endif
