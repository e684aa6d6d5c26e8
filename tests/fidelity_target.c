/* fidelity_target.c - the program tests/check_fidelity_smoke.sh runs through
 * bench/fidelity's whole loop (record under the preload build, replay,
 * compare).
 *
 * It writes every byte it allocates, so the simulator's assumption that an
 * allocation is touched whole holds exactly and what is left between the
 * simulated and the measured resident memory is the model's (and the
 * measurement's) error. Phases: 3000 small blocks of 16..4015 bytes
 * (sizes from a fixed linear congruential sequence), 12 blocks of 256 KiB,
 * a 150 ms hold at the peak (so the real run's sampler, every 10 ms, sees
 * it), every other small block and every large one freed, another 150 ms
 * hold, the rest freed. It prints the live bytes at the peak (the sum of
 * the requested sizes), which the replay's peak_live_bytes must equal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_SMALL 3000
#define N_LARGE 12
#define LARGE_BYTES (256u * 1024u)

static void hold_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int main(void)
{
    static char *small[N_SMALL], *large[N_LARGE];
    uint32_t x = 12345;
    uint64_t live = 0;
    for (int i = 0; i < N_SMALL; i++) {
        x = x * 1103515245u + 12345u;
        size_t n = 16 + (x >> 8) % 4000;
        if (!(small[i] = malloc(n))) return 1;
        memset(small[i], i & 0xff, n);
        live += n;
    }
    for (int i = 0; i < N_LARGE; i++) {
        if (!(large[i] = malloc(LARGE_BYTES))) return 1;
        memset(large[i], i, LARGE_BYTES);
        live += LARGE_BYTES;
    }
    hold_ms(150);
    /* snprintf + write: stdio's buffer would be one more allocation */
    char line[64];
    int len = snprintf(line, sizeof line, "peak_live_bytes %llu\n",
                       (unsigned long long)live);
    if (write(1, line, (size_t)len) != len) return 1;
    for (int i = 0; i < N_SMALL; i += 2)
        free(small[i]);
    for (int i = 0; i < N_LARGE; i++)
        free(large[i]);
    hold_ms(150);
    for (int i = 1; i < N_SMALL; i += 2)
        free(small[i]);
    return 0;
}
