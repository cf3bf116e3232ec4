/* console.h over Arm semihosting (`bkpt 0xab` on M-profile): operation number in r0, parameter block in r1.
 * Operation numbers and the SYS_EXIT_EXTENDED reason code are from Arm's semihosting specification v3. */
#include "console.h"

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0C,
    SYS_EXIT_EXTENDED = 0x20,
};
enum { MODE_READ_BINARY = 1, MODE_WRITE_BINARY = 5 };
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int semihost(int operation, const void *parameters) {
    register int r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = parameters;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void console_write(const char *text) { semihost(SYS_WRITE0, text); }

int console_open(const char *path, int for_writing) {
    size_t length = 0;
    while (path[length] != '\0') {
        ++length;
    }
    const uintptr_t block[3] = {(uintptr_t)path, (uintptr_t)(for_writing ? MODE_WRITE_BINARY : MODE_READ_BINARY),
                                (uintptr_t)length};
    return semihost(SYS_OPEN, block);
}

long console_file_length(int handle) {
    const uintptr_t block[1] = {(uintptr_t)handle};
    return semihost(SYS_FLEN, block);
}

int console_read(int handle, void *buffer, size_t size) {
    const uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buffer, (uintptr_t)size};
    return semihost(SYS_READ, block); /* bytes NOT read */
}

int console_write_file(int handle, const void *buffer, size_t size) {
    const uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buffer, (uintptr_t)size};
    return semihost(SYS_WRITE, block); /* bytes NOT written */
}

void console_close(int handle) {
    const uintptr_t block[1] = {(uintptr_t)handle};
    semihost(SYS_CLOSE, block);
}

void console_exit(int code) {
    const uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
    for (;;) {
        semihost(SYS_EXIT_EXTENDED, block);
    }
}
