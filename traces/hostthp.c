/* hostthp.c - reading the host's transparent-huge-page settings from
 * sysfs into the strings a trace's metadata holds (hostthp.h).
 *
 * The files are tiny and read once per recording; anything unexpected
 * (a missing file on a kernel without THP, a container that hides /sys,
 * text of another form) becomes "unknown", never an error: the recording
 * goes on and `allocsim run` keeps its own defaults for that setting.
 */
#include "traces/hostthp.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const as_thp_meta_key[AS_THP_N] = {
    "host.thp.enabled", "host.thp.defrag", "host.thp.khugepaged.max_ptes_none",
    "host.thp.khugepaged.scan_sleep_millisecs",
    "host.thp.khugepaged.pages_to_scan"};

const char *const as_thp_file[AS_THP_N] = {
    "enabled", "defrag", "khugepaged/max_ptes_none",
    "khugepaged/scan_sleep_millisecs", "khugepaged/pages_to_scan"};

static int unknown(char out[AS_THP_VALUE_MAX])
{
    snprintf(out, AS_THP_VALUE_MAX, "unknown");
    return -1;
}

int as_host_thp_parse(int which, const char *text, size_t n,
                      char out[AS_THP_VALUE_MAX])
{
    if (which == AS_THP_ENABLED || which == AS_THP_DEFRAG) {
        const char *a = memchr(text, '[', n);
        if (!a) return unknown(out);
        const char *b = memchr(a, ']', n - (size_t)(a - text));
        size_t len = b ? (size_t)(b - a - 1) : 0;
        if (!len || len >= AS_THP_VALUE_MAX) return unknown(out);
        for (size_t i = 1; i <= len; i++)
            if (!((a[i] >= 'a' && a[i] <= 'z') || a[i] == '+'))
                return unknown(out);
        memcpy(out, a + 1, len);
        out[len] = '\0';
        return 0;
    }
    size_t len = 0;
    while (len < n && text[len] >= '0' && text[len] <= '9')
        len++;
    if (!len || len > 19 || (len < n && text[len] != '\n')) return unknown(out);
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

void as_host_thp_read(const char *dir, char value[AS_THP_N][AS_THP_VALUE_MAX])
{
    for (int i = 0; i < AS_THP_N; i++) {
        char path[512], buf[256];
        snprintf(path, sizeof path, "%s/%s", dir, as_thp_file[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        if (fd >= 0) close(fd);
        if (n <= 0)
            unknown(value[i]);
        else
            as_host_thp_parse(i, buf, (size_t)n, value[i]);
    }
}
