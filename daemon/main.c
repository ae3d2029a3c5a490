/* main.c: tendd's options, daemonizing, pidfile, and the event loop. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "cmd.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "launch.h"
#include "log.h"
#include "persist.h"
#include "util.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;
	char	*def = conf_default_config();

	fprintf(f,
"usage: tendd [-c FILE] [-s SOCKET] [-d [--pidfile FILE]] [--exit-when-done]\n"
"             [--log-level L]\n"
"       tendd [-c FILE] --check\n"
"       tendd --run [--name NAME] [--kill-mode M] [-s SOCKET] [--log-level L]\n"
"             -- COMMAND [ARG...]\n"
"\n"
"  -c, --config FILE   configuration file (default: %s)\n"
"      --check         validate the configuration, print every error, exit\n"
"      --exit-when-done  exit once every non-daemon program has ended\n"
"      --run           supervise COMMAND alone, without a configuration\n"
"                      (a container's init): signals go to it, tendd\n"
"                      exits with its status\n"
"      --name NAME     the program's name with --run (default: main)\n"
"      --kill-mode M   with --run, where forwarded signals go: main (the\n"
"                      command, default) or group (its process group)\n"
"  -s, --socket PATH   control socket (overrides the configuration)\n"
"  -d, --daemonize     run in the background; returns once listening\n"
"      --pidfile FILE  write tendd's pid to FILE (removed at exit)\n"
"      --log-level L   error, warn, info (default) or debug\n"
"  -V, --version       print the version\n"
"  -h, --help          this help\n", def);
	free(def);
	exit(status);
}

static void
print_errors(const struct conf_errors *errs)
{
	size_t	 i;
	char	*msg;

	for (i = 0; i < errs->n; i++) {
		msg = conf_error_format(&errs->v[i]);
		fprintf(stderr, "%s\n", msg);
		free(msg);
	}
}

/* path taken from the working directory, for after daemonize's chdir;
   NULL stays NULL. */
static char *
absolute(const char *path)
{
	char	*cwd, *abs;

	if (path == NULL || path[0] == '/')
		return path != NULL ? xstrdup(path) : NULL;
	if ((cwd = getcwd(NULL, 0)) == NULL) {
		fprintf(stderr, "tendd: cannot get the working directory: %s\n",
		    strerror(errno));
		exit(1);
	}
	xasprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
	    path);
	free(cwd);
	return abs;
}

/* Write the pidfile atomically: a temporary file renamed into place. */
static int
write_pidfile(const char *path)
{
	char	*tmp;
	FILE	*f;
	int	 fd, rc = -1;

	xasprintf(&tmp, "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		free(tmp);
		return -1;
	}
	if (fprintf(f, "%d\n", (int)getpid()) > 0 && fflush(f) == 0 &&
	    fsync(fileno(f)) == 0)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return rc;
}

/*
 * Fork into the background. The original process waits on a pipe and
 * exits 0 only when the daemon reports it is listening; it prints the
 * daemon's error and exits 1 otherwise. Returns the pipe's write end in
 * the daemon.
 */
static int
daemonize(void)
{
	char	 buf[1024];
	ssize_t	 n;
	size_t	 len = 0;
	pid_t	 pid;
	int	 p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		while (len < sizeof buf - 1) {
			n = read(p[0], buf + len, sizeof buf - 1 - len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		buf[len] = '\0';
		waitpid(pid, &status, 0);
		/* _exit: this process only reports; the daemon owns the
		   rest, and nothing of ours needs flushing or freeing. */
		if (len == 1 && buf[0] == '\0')
			_exit(0);
		if (len == 0)
			fprintf(stderr, "tendd: the daemon exited before it "
			    "was ready\n");
		else
			fprintf(stderr, "tendd: %s\n", buf);
		_exit(1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	return p[1];
}

static void
detach_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("open /dev/null");
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* Started with 0, 1 or 2 closed, the next open would take their place,
   and a program's stdio would end up in one of tendd's files. */
static void
sane_stdio(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* Listen on the control socket (or take systemd's); on failure a message
   in err. */
static int
listen_control(struct daemon *d, char *err, size_t errlen)
{
	struct control_params	 cp;
	int			 n, fd = SD_LISTEN_FDS_START;

	memset(&cp, 0, sizeof cp);
	cp.base = d->base;
	cp.predecessor = d->predecessor;
	cmd_control_hooks(d, &cp.hooks);

	/* Socket activation: systemd passes the control socket as fd 3. */
	if ((n = sd_listen_fds(1)) < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-n));
		return -1;
	}
	if (n > 1) {
		snprintf(err, errlen, "socket activation: %d sockets passed, "
		    "tendd takes one (its control socket)", n);
		return -1;
	}
	if (n == 1) {
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not "
			    "a listening Unix stream socket", fd);
			return -1;
		}
		d->control = control_adopt(&cp, fd, d->conf->socket_group,
		    d->conf->socket_gid, err, errlen);
	} else
		d->control = control_new(&cp, d->socket_path,
		    d->conf->socket_mode, d->conf->socket_group,
		    d->conf->socket_gid, err, errlen);
	return d->control == NULL ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "daemonize",	no_argument,		NULL, 'd' },
		{ "check",	no_argument,		NULL, 'C' },
		{ "pidfile",	required_argument,	NULL, 'p' },
		{ "log-level",	required_argument,	NULL, 'l' },
		{ "exit-when-done", no_argument,	NULL, 'E' },
		{ "run",	no_argument,		NULL, 'R' },
		{ "name",	required_argument,	NULL, 'N' },
		{ "kill-mode",	required_argument,	NULL, 'K' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 },
	};
	struct conf_errors	 errs = { NULL, 0 };
	struct event_base	*base;
	struct event_config	*evcfg;
	struct daemon		*d;
	struct conf		*conf;
	enum log_level		 level = LOG_LEVEL_INFO;
	bool			 level_set = false;
	const char		*socket = NULL, *pidfile = NULL, *name = NULL;
	const char		*kill_mode = NULL;
	char			*config = NULL, *path, err[512];
	char			*socket_abs = NULL, *pidfile_abs = NULL;
	int			 ch, check = 0, bg = 0, readyfd = -1, code;
	int			 run = 0, done = 0;

	/* "+": options end at the first operand, so --run's command keeps
	   its own options. */
	while ((ch = getopt_long(argc, argv, "+c:s:dVh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			free(config);
			config = xstrdup(optarg);
			break;
		case 's':
			socket = optarg;
			break;
		case 'd':
			bg = 1;
			break;
		case 'C':
			check = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'l':
			if (log_parse_level(optarg, &level) == -1) {
				fprintf(stderr, "tendd: unknown log level "
				    "'%s'\n", optarg);
				usage(2);
			}
			level_set = true;
			break;
		case 'E':
			done = 1;
			break;
		case 'R':
			run = 1;
			break;
		case 'N':
			name = optarg;
			break;
		case 'K':
			if (strcmp(optarg, "main") != 0 &&
			    strcmp(optarg, "group") != 0) {
				fprintf(stderr, "tendd: --kill-mode is main or "
				    "group, not '%s'\n", optarg);
				usage(2);
			}
			kill_mode = optarg;
			break;
		case 'V':
			printf("tendd %s\n", TEND_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (run) {
		if (optind == argc || config != NULL || check || bg ||
		    done) {
			fprintf(stderr, "tendd: --run takes a command, and "
			    "not -c, --check, -d or --exit-when-done\n");
			usage(2);
		}
	} else if (optind != argc || name != NULL || kill_mode != NULL)
		usage(2);
	if (config == NULL && !run)
		config = conf_default_config();
	/* A container's init speaks only when something is wrong. */
	if (run && !level_set)
		level = LOG_LEVEL_WARN;
	log_init(1, level);

	if (run)
		conf = conf_run(argv + optind, (size_t)(argc - optind),
		    name != NULL ? name : "main", &errs);
	else
		conf = conf_load(config, &errs);
	if (conf == NULL) {
		print_errors(&errs);
		if (check)
			fprintf(stderr, "%s: %zu error%s\n", config, errs.n,
			    errs.n == 1 ? "" : "s");
		conf_errors_clear(&errs);
		free(config);
		return 1;
	}
	if (check) {
		printf("%s: ok (%zu program%s)\n", config, conf->nprograms,
		    conf->nprograms == 1 ? "" : "s");
		conf_unref(conf);
		free(config);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	sane_stdio();
	launch_init();
	if (bg) {
		/* daemonize goes to /: a relative path would be taken from
		   there, at start and at every reload. */
		path = absolute(config);
		free(config);
		config = path;
		socket = socket_abs = absolute(socket);
		pidfile = pidfile_abs = absolute(pidfile);
		readyfd = daemonize();
		/* Nothing more to the terminal: logs to syslog, and errors
		   until ready to the waiting parent, which prints them. */
		log_set_syslog();
		log_fatal_to(readyfd);
		detach_stdio();
	}
	/* Precise timers: the coarse clock's 4 ms steps would stretch the
	   1 ms read batching of busy log pipes. */
	if ((evcfg = event_config_new()) == NULL)
		fatalx("cannot create the event loop");
	event_config_set_flag(evcfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(evcfg);
	event_config_free(evcfg);
	if (base == NULL)
		fatalx("cannot create the event loop");
	d = daemon_new(base, conf, config, socket, done);
	cmd_attach(d);
	d->forward_group = kill_mode != NULL && strcmp(kill_mode, "group") ==
	    0;
	/* The state_dir lock first: it, not the socket, says whether
	   another tendd runs. */
	if (persist_lock(d, err, sizeof err) == -1)
		goto failed;
	if (listen_control(d, err, sizeof err) == -1) {
		if (!run)
			goto failed;
		/* The command matters more than the control socket. */
		log_warnx("%s; running without a control socket", err);
	}
	persist_restore(d);
	if (pidfile != NULL && write_pidfile(pidfile) == -1) {
		snprintf(err, sizeof err, "cannot write pidfile %s: %s",
		    pidfile, strerror(errno));
		goto failed;
	}
	if (readyfd != -1) {
		log_fatal_to(-1);
		(void)!write(readyfd, "", 1);
		close(readyfd);
	}
	if (run)
		log_info("tendd %s started (pid %d) to run %s", TEND_VERSION,
		    (int)getpid(), argv[optind]);
	else
		log_info("tendd %s started (pid %d, %zu programs)",
		    TEND_VERSION, (int)getpid(), conf->nprograms);
	daemon_run(d);
	event_base_dispatch(base);

	code = d->exit_code;
	persist_close(d);
	/* The clients first: what they follow goes with cmd_detach. */
	control_free(d->control);
	d->control = NULL;
	cmd_detach(d);
	log_info("exiting");
	if (pidfile != NULL)
		unlink(pidfile);
	daemon_free(d);
	event_base_free(base);
	libevent_global_shutdown();
	free(config);
	free(socket_abs);
	free(pidfile_abs);
	return code;

failed:
	/* To the waiting parent with --daemonize, else to stderr. */
	if (readyfd != -1)
		(void)!write(readyfd, err, strlen(err));
	else
		fprintf(stderr, "tendd: %s\n", err);
	persist_close(d);
	control_free(d->control);
	d->control = NULL;
	cmd_detach(d);
	daemon_free(d);
	event_base_free(base);
	free(config);
	free(socket_abs);
	free(pidfile_abs);
	return 1;
}
