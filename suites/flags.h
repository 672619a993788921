/* flags.h — declare a command's flags once (name, type, default, help) so
 * parsing, --help text and the run record (argv) all come from one table.
 *
 *   int threads = 0; const char *db = NULL;
 *   flag_def defs[] = {
 *       {"threads", FLAG_INT, &threads, "0", "threads (0 = all)"},
 *       {"db", FLAG_STR, &db, NULL, "database path"},
 *       {NULL}};
 *   int npos; char *pos[8];
 *   int rc = flags_parse(defs, argc, argv, pos, 8, &npos, "griffin foo [flags] FILE", "what foo does");
 *   if (rc >= 0) return rc;   // 0 after --help, 2 after a usage error
 *
 * Accepted forms: --name VALUE, --name=VALUE, and for FLAG_BOOL --name /
 * --no-name. -h / --help print help. Unknown flags are a usage error that
 * names the flag. Returns -1 when parsing succeeded and the command should go on.
 *
 * Numbers: a FLAG_FLOAT must be finite (nan, inf are refused); `range`, when
 * given, is an interval the value must lie in, written "[1,65536]",
 * "(0,1000]", "[-1,1e6]" ('(' / ')' exclude the end). A value outside is a
 * usage error naming the flag, the interval and the value ("error: --lr must
 * be in (0,1000] (got nan)"); --help shows the interval. Text: an empty
 * value on the command line is a usage error unless range is "" (the flag
 * gives the empty string a meaning, e.g. generate --prompt "").
 */
#ifndef GRIFFIN_FLAGS_H
#define GRIFFIN_FLAGS_H
#include <stdio.h>

typedef enum { FLAG_STR = 1, FLAG_INT, FLAG_FLOAT, FLAG_BOOL, FLAG_LONG } flag_type;

typedef struct {
    const char *name;  /* without the leading "--"; NULL terminates */
    flag_type type;
    void *dst;         /* const char **, int *, double *, int *, long long * */
    const char *def;   /* default as text (NULL: leave *dst as it is) */
    const char *help;
    const char *range; /* numbers: allowed interval, e.g. "[0,1]" (NULL: any finite value of the type) */
    int seen;          /* set by flags_parse when given on the command line */
} flag_def;

int flags_parse(flag_def *defs, int argc, char **argv, char **pos, int max_pos, int *npos,
                const char *usage, const char *about);
void flags_help(FILE *f, const flag_def *defs, const char *usage, const char *about);
/* Was the flag given explicitly? */
int flags_seen(const flag_def *defs, const char *name);

#endif
