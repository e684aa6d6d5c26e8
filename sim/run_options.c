/* run_options.c - parse the flags that configure a replay (see
 * run_options.h). Prints usage errors itself: it is command-line code. */
#include "sim/run_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"

int as_run_options_parse(as_run_opts_t *o, int argc, char **argv,
                         void (*usage)(FILE *))
{
    static const struct option longopts[] = {
        {"policy", required_argument, 0, 'p'},
        {"param", required_argument, 0, 'P'},
        {"predictor", required_argument, 0, 'r'},
        {"thp", required_argument, 0, 't'},
        {"classes", required_argument, 0, 'c'},
        {"sample-interval", required_argument, 0, 's'},
        {"no-check", no_argument, 0, 'n'},
        {"output", required_argument, 0, 'o'},
        {"trace", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},
        {"shadow-predictor", required_argument, 0, 'S'},
        {"predictor-load", required_argument, 0, 'L'},
        {"predictor-save", required_argument, 0, 'W'},
        {"stats", no_argument, 0, 'x'},
        {"skip-bad-events", no_argument, 0, 'B'},
        {"allow-truncated", no_argument, 0, 'A'},
        {"max-rows", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    as_run_config_default(&o->cfg);
    o->out_dir = "allocsim-out";
    static const as_param_spec_t thp = {
        "thp", AS_PARAM_ENUM, "always", 0, 0, "never|madvise|always", ""};
    static const as_param_spec_t dur = {"sample-interval",
                                        AS_PARAM_NS,
                                        "0",
                                        AS_MIN_SAMPLE_INTERVAL_NS,
                                        1e18,
                                        NULL,
                                        ""};
    static const as_param_spec_t rows = {"max-rows", AS_PARAM_U64, "1000000", 1,
                                         1e12,       NULL,         ""};
    as_param_value_t v;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "p:P:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->cfg.policy = optarg;
            break;
        case 'P':
            if (o->cfg.n_params == AS_MAX_PARAMS) {
                fprintf(stderr, "%s: too many --param (max %d)\n", argv[0],
                        AS_MAX_PARAMS);
                return AS_EXIT_USAGE;
            }
            o->cfg.params[o->cfg.n_params++] = optarg;
            break;
        case 'r':
            o->cfg.predictor = optarg;
            break;
        case 't':
            if (as_param_parse_value(&thp, optarg, strlen(optarg), &v)) {
                fprintf(stderr,
                        "%s: --thp: '%s' is not always, madvise or "
                        "never\n",
                        argv[0], optarg);
                return AS_EXIT_USAGE;
            }
            o->cfg.os.thp = (as_thp_mode_t)v.u;
            break;
        case 'c':
            if (as_classes_parse(&o->cfg.classes, optarg)) {
                fprintf(stderr,
                        "%s: --classes: '%s' is not an ascending list "
                        "of durations like 10ms,1s,100s (at most %d)\n",
                        argv[0], optarg, AS_MAX_CLASSES - 1);
                return AS_EXIT_USAGE;
            }
            break;
        case 's':
            if (as_param_parse_value(&dur, optarg, strlen(optarg), &v)) {
                fprintf(stderr,
                        "%s: --sample-interval: '%s' is not a "
                        "duration from 1us, like 10ms\n",
                        argv[0], optarg);
                return AS_EXIT_USAGE;
            }
            o->cfg.sample_interval_ns = v.u;
            break;
        case 'n':
            o->cfg.check = 0;
            break;
        case 'o':
            o->out_dir = optarg;
            break;
        case 'T':
            o->trace = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'S':
            o->cfg.shadow_predictor = optarg;
            break;
        case 'L':
            o->cfg.predictor_load_path = optarg;
            break;
        case 'W':
            o->cfg.predictor_save_path = optarg;
            break;
        case 'x':
            o->cfg.stats_layer = 1;
            break;
        case 'B':
            o->cfg.skip_bad_events = 1;
            break;
        case 'A':
            o->cfg.allow_truncated = 1;
            break;
        case 'R':
            if (as_param_parse_value(&rows, optarg, strlen(optarg), &v)) {
                fprintf(stderr,
                        "%s: --max-rows: '%s' is not a count from 1 to "
                        "10^12\n",
                        argv[0], optarg);
                return AS_EXIT_USAGE;
            }
            o->cfg.max_rows = v.u;
            break;
        case 'h':
            usage(stdout);
            return AS_EXIT_OK;
        default:
            fprintf(stderr,
                    "%s: unknown or incomplete option '%s'; see "
                    "--help\n",
                    argv[0], argv[optind - 1]);
            return AS_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        /* Allow "-o DIR" after the trace, as `run TRACE -o DIR`. */
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
            i + 1 < argc) {
            o->out_dir = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: options go before the trace: '%s'\n", argv[0],
                    argv[i]);
            return AS_EXIT_USAGE;
        }
        if (o->n_positional == AS_MAX_POSITIONAL) {
            fprintf(stderr, "%s: too many arguments\n", argv[0]);
            return AS_EXIT_USAGE;
        }
        o->positional[o->n_positional++] = argv[i];
    }
    return -1;
}
