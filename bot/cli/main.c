/* main.c - the oefenkamer command line: argument parsing and dispatch.
 * Each command lives in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char usage[] =
	"gebruik: oefenkamer <opdracht> [opties]\n"
	"\n"
	"  scenarios [--json]                      de scenario's\n"
	"  play [SCENARIO] [--seed N] [--db BESTAND] [--json]\n"
	"                                          oefen in deze terminal\n"
	"  check [--json] [--transcripts DB] [PAD…] controleer scripts\n"
	"  sessions [--db BESTAND] [--json]        opgeslagen oefeningen\n"
	"  replay ID [--db BESTAND] [--speed X]    speel een oefening terug\n"
	"  export ID --format html|md|json|text [--db BESTAND]\n"
	"    [--output BESTAND]                    nabespreking maken\n"
	"  eval CORPUS… [--json] [--alleen-patronen]\n"
	"                                          hoe goed de persona's gelabelde\n"
	"                                          gesprekken begrijpen\n"
	"  graph SCENARIO                          scenario als Graphviz dot\n"
	"  bench engine                            snelheid en geheugen\n"
	"  bench crypto                            wat versleuteling per bericht kost\n"
	"  run --config BESTAND                    de Matrix-bot\n"
	"  purge (--config BESTAND | --days N [--db BESTAND])\n"
	"                                          oude oefeningen wissen\n"
	"\n"
	"Scenario's staan in ./scripts, persona's in ./personas (of zet\n"
	"OEF_SCRIPTS en OEF_PERSONAS). De standaarddatabase is\n"
	"./oefenkamer.db (of OEF_DB).\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "scenarios", cmd_scenarios },
		{ "play", cmd_play },
		{ "check", cmd_check },
		{ "sessions", cmd_sessions },
		{ "replay", cmd_replay },
		{ "export", cmd_export },
		{ "graph", cmd_graph },
		{ "bench", cmd_bench },
		{ "run", cmd_run },
		{ "purge", cmd_purge },
		{ "eval", cmd_eval },
	};

	jansson_use_xmalloc();
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "oefenkamer: onbekende opdracht '%s'\n\n%s", argv[1],
		usage);
	return 2;
}
