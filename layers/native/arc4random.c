/* Linked into extensions built from source for Lambda (layers/build.py).
 *
 * libstdc++ is linked statically (Amazon Linux 2023's own may be older than the one it was
 * built with), and the static libstdc++ of this machine's GCC calls arc4random (glibc 2.36)
 * in std::random_device. Lambda's python3.12 runtime has glibc 2.34, which lacks it: this
 * definition, hidden inside the extension, answers the same from getrandom(2) (glibc 2.25).
 */
#include <sys/random.h>

__attribute__((visibility("hidden"))) unsigned int arc4random(void) {
    unsigned int value;
    while (getrandom(&value, sizeof value, 0) != (long)sizeof value) {
        /* interrupted before any byte: ask again */
    }
    return value;
}
