/* console_write_u64 for every console: decimal digits through console_write. */
#include "console.h"

void console_write_u64(uint64_t value) {
    char digits[21];
    char *cursor = digits + sizeof digits - 1;
    *cursor = '\0';
    do {
        *--cursor = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    console_write(cursor);
}
