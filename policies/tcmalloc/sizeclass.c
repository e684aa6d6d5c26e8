/* sizeclass.c - TCMalloc's two size-class tables and the rules behind them.
 *
 * Owns the static class tables for 8 KiB pages and the two rules that derive
 * a row's span length and batch size from its object size, so other page
 * sizes (param page_size) get tables built by the same rules. It holds no
 * state and must never allocate.
 *
 * Default table: TCMalloc's ReuseRelaxedBelow64 table for 8 KiB pages and
 * 16-byte default new alignment (reuse_relaxed_below_64_size_classes.cc in
 * google/tcmalloc): 48 classes, 8 B .. 256 KiB, each row's object size, span
 * length (span_bytes / 8 KiB) and batch as published.
 *
 * Legacy table: legacy_size_classes.cc, the same configuration (8 KiB pages,
 * 16-byte alignment): 85 classes (86 entries with class 0, kNumBaseClasses),
 * rows as published.
 *
 * Both tables were first derived with the rules below when only the sizes
 * were at hand; checked against the published files they differ in span
 * length for 2048, 4096, 8192 and 28672 B (default) and in many legacy rows,
 * so the published rows replaced them. The rules still build the tables for
 * other page sizes (param page_size), where this is an approximation.
 *
 * Rules (both tables):
 *   batch(b)  = clamp(65536 / b, 2, 32)
 *   pages(b)  = fewest pages P such that (P*page mod b) <= P*page/8 and
 *               P*page / b >= max(1, batch(b)/4)
 */
#include "policies/tcmalloc/tc_internal.h"

const tc_class_row_t as_tc_default_classes[] = {
    {8, 1, 32},      {16, 1, 32},     {32, 1, 32},     {48, 1, 32},
    {64, 1, 32},     {80, 1, 32},     {96, 1, 32},     {112, 1, 32},
    {128, 1, 32},    {160, 1, 32},    {176, 1, 32},    {208, 1, 32},
    {256, 1, 32},    {304, 1, 32},    {368, 1, 32},    {448, 1, 32},
    {512, 1, 32},    {576, 1, 32},    {704, 1, 32},    {896, 1, 32},
    {1024, 1, 32},   {1152, 2, 32},   {1408, 2, 32},   {1792, 2, 32},
    {2048, 1, 32},   {2304, 2, 28},   {2688, 2, 24},   {3456, 3, 18},
    {4096, 1, 16},   {4736, 3, 13},   {6144, 3, 10},   {8192, 1, 8},
    {9472, 5, 6},    {12288, 3, 5},   {16384, 2, 4},   {20480, 5, 3},
    {28672, 7, 2},   {32768, 4, 2},   {40960, 5, 2},   {49152, 6, 2},
    {65536, 8, 2},   {73728, 9, 2},   {81920, 10, 2},  {98304, 12, 2},
    {131072, 16, 2}, {155648, 19, 2}, {204800, 25, 2}, {262144, 32, 2},
};
const size_t as_tc_default_nclasses =
    sizeof as_tc_default_classes / sizeof as_tc_default_classes[0];

const tc_class_row_t as_tc_legacy_classes[] = {
    {8, 1, 32},      {16, 1, 32},     {32, 1, 32},     {48, 1, 32},
    {64, 1, 32},     {80, 1, 32},     {96, 1, 32},     {112, 1, 32},
    {128, 1, 32},    {144, 1, 32},    {160, 1, 32},    {176, 1, 32},
    {192, 1, 32},    {208, 1, 32},    {224, 1, 32},    {240, 1, 32},
    {256, 1, 32},    {272, 1, 32},    {288, 1, 32},    {304, 1, 32},
    {320, 1, 32},    {352, 1, 32},    {368, 1, 32},    {384, 1, 32},
    {400, 1, 32},    {416, 1, 32},    {448, 1, 32},    {480, 1, 32},
    {512, 1, 32},    {576, 1, 32},    {640, 1, 32},    {704, 1, 32},
    {768, 1, 32},    {896, 1, 32},    {1024, 1, 32},   {1152, 2, 32},
    {1280, 2, 32},   {1408, 2, 32},   {1536, 2, 32},   {1792, 2, 32},
    {2048, 1, 32},   {2304, 2, 28},   {2688, 2, 24},   {2816, 3, 23},
    {3200, 2, 20},   {3456, 3, 18},   {3584, 4, 18},   {4096, 1, 16},
    {4736, 3, 13},   {5376, 2, 12},   {6144, 3, 10},   {6528, 4, 10},
    {7168, 7, 9},    {8192, 1, 8},    {9472, 5, 6},    {10240, 4, 6},
    {12288, 3, 5},   {13568, 5, 4},   {14336, 7, 4},   {16384, 2, 4},
    {20480, 5, 3},   {24576, 3, 2},   {28672, 7, 2},   {32768, 4, 2},
    {40960, 5, 2},   {49152, 6, 2},   {57344, 7, 2},   {65536, 8, 2},
    {73728, 9, 2},   {81920, 10, 2},  {90112, 11, 2},  {98304, 12, 2},
    {106496, 13, 2}, {114688, 14, 2}, {122880, 15, 2}, {131072, 16, 2},
    {139264, 17, 2}, {147456, 18, 2}, {155648, 19, 2}, {172032, 21, 2},
    {188416, 23, 2}, {204800, 25, 2}, {221184, 27, 2}, {245760, 30, 2},
    {262144, 32, 2},
};
const size_t as_tc_legacy_nclasses =
    sizeof as_tc_legacy_classes / sizeof as_tc_legacy_classes[0];

uint32_t as_tc_batch_for(uint32_t bytes)
{
    uint32_t n = bytes ? 65536u / bytes : 32u;
    if (n < 2) n = 2;
    if (n > 32) n = 32;
    return n;
}

uint32_t as_tc_span_pages_for(uint32_t bytes, uint32_t page_bytes)
{
    uint64_t min_objects = as_tc_batch_for(bytes) / 4;
    if (min_objects == 0) min_objects = 1;
    uint64_t span = 0;
    do {
        span += page_bytes;
        while (span % bytes > span / 8)
            span += page_bytes;
    } while (span / bytes < min_objects);
    return (uint32_t)(span / page_bytes);
}
