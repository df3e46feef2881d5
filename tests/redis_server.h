/*
 * Test helper: a private, throw-away redis-server per test. It listens on a Unix
 * socket or a free TCP port on 127.0.0.1, keeps its files in a fresh temp dir,
 * persists nothing, and dies with the test process (PR_SET_PDEATHSIG). Tests can
 * crash it, freeze it, thaw it and restart it on the same address, and query it
 * with a blocking hiredis client for assertions. Header-only: include it once.
 */
#ifndef CHATLOGD_TEST_REDIS_SERVER_H
#define CHATLOGD_TEST_REDIS_SERVER_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define REDIS_SERVER_BINARY "/usr/bin/redis-server"
#define REDIS_SERVER_MAX_ARGS 64
/* A loaded CI machine can take a while to exec redis-server under ASan. */
#define REDIS_SERVER_READY_TIMEOUT_MS 15000

struct redis_server_options {
	int unix_socket;               /* 1: dir/redis.sock only; 0: a free TCP port */
	const char *const *extra_args; /* NULL-terminated, e.g. {"--requirepass", "pw", NULL} */
	const char *user;              /* credentials for the helper's own client, or NULL */
	const char *password;
};

struct redis_server {
	pid_t pid; /* 0 when not running */
	int port;  /* 0 in Unix socket mode */
	char dir[64];
	char socket_path[128]; /* "" in TCP mode */
	char url[192];         /* what redisconn should be given: redis://... or unix://... */
	char user[64];
	char password[128];
	char *argv[REDIS_SERVER_MAX_ARGS + 1];
};

static inline int64_t redis_server_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void redis_server_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A TCP port nobody listens on right now (the kernel's pick for port 0). */
static inline int redis_server_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Connects a blocking client (5 s timeouts, so a paused server cannot hang a
 * test), authenticates with the server's test credentials and selects db. NULL
 * on failure; free with redisFree. */
static inline redisContext *redis_server_connect(const struct redis_server *s, int db)
{
	struct timeval tv = {5, 0};
	redisContext *rc;
	redisReply *reply;

	if (s->socket_path[0] != '\0')
		rc = redisConnectUnixWithTimeout(s->socket_path, tv);
	else
		rc = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	if (rc == NULL)
		return NULL;
	if (rc->err != 0 || redisSetTimeout(rc, tv) != REDIS_OK)
		goto fail;
	if (s->password[0] != '\0') {
		if (s->user[0] != '\0')
			reply = redisCommand(rc, "AUTH %s %s", s->user, s->password);
		else
			reply = redisCommand(rc, "AUTH %s", s->password);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
			if (reply != NULL)
				freeReplyObject(reply);
			goto fail;
		}
		freeReplyObject(reply);
	}
	if (db != 0) {
		reply = redisCommand(rc, "SELECT %d", db);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
			if (reply != NULL)
				freeReplyObject(reply);
			goto fail;
		}
		freeReplyObject(reply);
	}
	return rc;
fail:
	redisFree(rc);
	return NULL;
}

/* Runs one command (hiredis printf-style format) on db with a fresh blocking
 * client. Returns the reply (free with freeReplyObject) or NULL. */
static inline redisReply *redis_server_command(const struct redis_server *s, int db,
                                               const char *fmt, ...)
{
	redisContext *rc;
	redisReply *reply;
	va_list ap;

	if ((rc = redis_server_connect(s, db)) == NULL)
		return NULL;
	va_start(ap, fmt);
	reply = redisvCommand(rc, fmt, ap);
	va_end(ap);
	redisFree(rc);
	return reply;
}

/* Returns 1 when the server answers anything at all (NOAUTH counts). */
static inline int redis_server_answers(const struct redis_server *s)
{
	struct timeval tv = {0, 200000};
	redisContext *rc;
	redisReply *reply = NULL;

	if (s->socket_path[0] != '\0')
		rc = redisConnectUnixWithTimeout(s->socket_path, tv);
	else
		rc = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	if (rc == NULL)
		return 0;
	if (rc->err == 0 && redisSetTimeout(rc, tv) == REDIS_OK)
		reply = redisCommand(rc, "PING");
	redisFree(rc);
	if (reply == NULL)
		return 0;
	freeReplyObject(reply);
	return 1;
}

static inline void redis_server_print_log(const struct redis_server *s)
{
	char path[128], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/redis.log", s->dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "redis-server: %s", line);
	fclose(f);
}

/* Forks and execs redis-server with s->argv, then waits until it answers. */
static inline int redis_server_spawn(struct redis_server *s)
{
	pid_t parent = getpid(), pid;
	int64_t give_up;
	int status, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* The server must not outlive a crashed or aborted test. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(127);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(REDIS_SERVER_BINARY, s->argv);
		_exit(127);
	}
	s->pid = pid;
	give_up = redis_server_now_ms() + REDIS_SERVER_READY_TIMEOUT_MS;
	while (redis_server_now_ms() < give_up) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = 0;
			fprintf(stderr, "redis_server: redis-server exited at start-up\n");
			redis_server_print_log(s);
			return -1;
		}
		if (redis_server_answers(s))
			return 0;
		redis_server_sleep_ms(20);
	}
	fprintf(stderr, "redis_server: redis-server did not answer PING in time\n");
	redis_server_print_log(s);
	return -1;
}

/* SIGKILLs the server (a crash: no goodbye to clients) and reaps it. The temp dir
 * and address stay, for redis_server_restart. */
static inline void redis_server_kill(struct redis_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR)
		;
	s->pid = 0;
}

/* Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
static inline int redis_server_pause(struct redis_server *s)
{
	return s->pid > 0 ? kill(s->pid, SIGSTOP) : -1;
}

static inline int redis_server_resume(struct redis_server *s)
{
	return s->pid > 0 ? kill(s->pid, SIGCONT) : -1;
}

/* Kills the server if it runs and starts it again on the same socket or port,
 * with the same arguments (and, as nothing is persisted, an empty dataset). */
static inline int redis_server_restart(struct redis_server *s)
{
	redis_server_kill(s);
	return redis_server_spawn(s);
}

static inline void redis_server_remove_dir(const struct redis_server *s)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if (s->dir[0] == '\0' || (d = opendir(s->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(s->dir);
}

/* Teardown: kills the server (even a paused one), removes its temp dir and frees
 * the argument copies. Safe on a zeroed, failed or already stopped struct. */
static inline void redis_server_stop(struct redis_server *s)
{
	int i;

	redis_server_kill(s);
	redis_server_remove_dir(s);
	for (i = 0; i < REDIS_SERVER_MAX_ARGS && s->argv[i] != NULL; i++) {
		free(s->argv[i]);
		s->argv[i] = NULL;
	}
	s->dir[0] = '\0';
}

static inline int redis_server_add_arg(struct redis_server *s, int *argc, const char *arg)
{
	if (*argc >= REDIS_SERVER_MAX_ARGS || (s->argv[*argc] = strdup(arg)) == NULL)
		return -1;
	(*argc)++;
	return 0;
}

/* Starts a fresh server as opt says and waits until it answers. On failure
 * everything is cleaned up already (redis_server_stop is still safe to call). */
static inline int redis_server_start(struct redis_server *s, const struct redis_server_options *opt)
{
	char port[16], logfile[128];
	int argc = 0, i, ok = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/chatlogd-redis-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		s->dir[0] = '\0';
		return -1;
	}
	snprintf(logfile, sizeof(logfile), "%s/redis.log", s->dir);
	if (opt->unix_socket) {
		snprintf(s->socket_path, sizeof(s->socket_path), "%s/redis.sock", s->dir);
		snprintf(s->url, sizeof(s->url), "unix://%s", s->socket_path);
		snprintf(port, sizeof(port), "0");
	} else {
		if ((s->port = redis_server_free_port()) <= 0)
			goto fail;
		snprintf(s->url, sizeof(s->url), "redis://127.0.0.1:%d", s->port);
		snprintf(port, sizeof(port), "%d", s->port);
	}
	snprintf(s->user, sizeof(s->user), "%s", opt->user != NULL ? opt->user : "");
	snprintf(s->password, sizeof(s->password), "%s",
	         opt->password != NULL ? opt->password : "");

	ok = redis_server_add_arg(s, &argc, REDIS_SERVER_BINARY) == 0 &&
	     redis_server_add_arg(s, &argc, "--port") == 0 &&
	     redis_server_add_arg(s, &argc, port) == 0 &&
	     redis_server_add_arg(s, &argc, "--bind") == 0 &&
	     redis_server_add_arg(s, &argc, "127.0.0.1") == 0 &&
	     redis_server_add_arg(s, &argc, "--save") == 0 &&
	     redis_server_add_arg(s, &argc, "") == 0 &&
	     redis_server_add_arg(s, &argc, "--appendonly") == 0 &&
	     redis_server_add_arg(s, &argc, "no") == 0 &&
	     redis_server_add_arg(s, &argc, "--dir") == 0 &&
	     redis_server_add_arg(s, &argc, s->dir) == 0 &&
	     redis_server_add_arg(s, &argc, "--logfile") == 0 &&
	     redis_server_add_arg(s, &argc, logfile) == 0 &&
	     redis_server_add_arg(s, &argc, "--daemonize") == 0 &&
	     redis_server_add_arg(s, &argc, "no") == 0;
	if (ok && opt->unix_socket)
		ok = redis_server_add_arg(s, &argc, "--unixsocket") == 0 &&
		     redis_server_add_arg(s, &argc, s->socket_path) == 0 &&
		     redis_server_add_arg(s, &argc, "--unixsocketperm") == 0 &&
		     redis_server_add_arg(s, &argc, "700") == 0;
	for (i = 0; ok && opt->extra_args != NULL && opt->extra_args[i] != NULL; i++)
		ok = redis_server_add_arg(s, &argc, opt->extra_args[i]) == 0;
	if (!ok || redis_server_spawn(s) == -1)
		goto fail;
	return 0;
fail:
	redis_server_stop(s);
	return -1;
}

#endif
