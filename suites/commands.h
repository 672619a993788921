/* commands.h — every `griffin` subcommand: int cmd_NAME(argc, argv), where
 * argv[0] is the subcommand name. Returns the exit code: 0 ok, 1 failure,
 * 2 usage or setup error. suites/main.c dispatches to these. */
#ifndef GRIFFIN_COMMANDS_H
#define GRIFFIN_COMMANDS_H

int cmd_info(int argc, char **argv);      /* suites/cmd_model.c */
int cmd_models(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_forward(int argc, char **argv);

int cmd_roofline(int argc, char **argv);  /* suites/cmd_roofline.c */
int cmd_bench_model(int argc, char **argv); /* suites/cmd_bench.c */
int cmd_targets(int argc, char **argv);     /* suites/cmd_targets.c */

int cmd_results(int argc, char **argv);   /* suites/cmd_results.c */
int cmd_import_gbench(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_history(int argc, char **argv);

int cmd_train(int argc, char **argv);     /* suites/cmd_train.c */
int cmd_eval(int argc, char **argv);
int cmd_run(int argc, char **argv);       /* suites/run.c */
int cmd_claims(int argc, char **argv);    /* suites/cmd_claims.c */

#endif
