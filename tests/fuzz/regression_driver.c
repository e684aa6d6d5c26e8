/* regression_driver.c - replays a fuzz corpus without libFuzzer: calls
 * LLVMFuzzerTestOneInput on every regular file of the directory argv[1], so
 * saved inputs run in `make test` (under ASan in the sanitizer build).
 * Fails when the directory is missing or holds no file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: cannot open the corpus directory\n", argv[1]);
        return 1;
    }
    struct dirent *e;
    unsigned files = 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open\n", path);
            closedir(d);
            return 1;
        }
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        files++;
    }
    closedir(d);
    if (files == 0) {
        fprintf(stderr, "%s: no corpus files\n", argv[1]);
        return 1;
    }
    printf("%u corpus files replayed\n", files);
    return 0;
}
