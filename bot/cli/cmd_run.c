/* cmd_run.c - `oefenkamer run --config FILE`: the Matrix bot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bot.h"
#include "cli.h"

static volatile int stop_flag;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	ssize_t w;

	(void)sig;
	stop_flag = 1;
	w = write(wake_pipe[1], "x", 1);
	(void)w;
	errno = saved;
}

int cmd_run(int argc, char **argv)
{
	struct config cfg;
	struct err err;
	struct bot *b;
	struct sigaction sa;
	const char *path = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "gebruik: oefenkamer run --config BESTAND\n");
		return 2;
	}
	if (config_load(path, &cfg, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		return 2;
	}
	if (pipe(wake_pipe) < 0 ||
	    fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) < 0) {
		fprintf(stderr, "oefenkamer: pipe: %s\n", strerror(errno));
		config_release(&cfg);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	b = bot_new(&cfg, &err);
	if (!b) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		config_release(&cfg);
		return 1;
	}
	rc = bot_run(b, &stop_flag, wake_pipe[0]) < 0 ? 1 : 0;
	bot_free(b);
	config_release(&cfg);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	return rc;
}
