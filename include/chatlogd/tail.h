/*
 * Following log files as they are written: glob patterns expanded periodically,
 * growth seen through inotify with a timer-driven fstat backstop, rotation by
 * rename+create and by copytruncate, files deleted while open let go after their
 * last line. Hands out complete lines only and knows exactly how far it has handed
 * out (a position per file), so a checkpoint never loses or repeats a line.
 */
#ifndef CHATLOGD_TAIL_H
#define CHATLOGD_TAIL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct tail;

/* Fingerprint sizes: the head identifies a file beyond its inode (inode reuse);
 * the bytes just before the offset detect a rewrite or truncate-and-regrow. */
#define TAIL_HEAD_BYTES 1024
#define TAIL_BEFORE_BYTES 64
/* The hashes are hindex_hash(bytes, len, TAIL_FINGERPRINT_SEED). Saved positions
 * depend on it: never change it. */
#define TAIL_FINGERPRINT_SEED 0x7461696c66707631ull

/* How long a file renamed away is still followed when nothing shows the writer has
 * moved on (a writer keeps appending to its old descriptor until it reopens).
 * Fluent Bit's rotate_wait default. */
#define TAIL_ROTATE_WAIT_DEFAULT_MS 5000

/* Where a followed file's older generations are looked for at restore: glob(7)
 * patterns for names in its directory, separated by blanks, in which %f stands for
 * the file's name, %b for it without its last extension, %e for that extension
 * (with its dot, or empty) and %% for %. Covers logrotate's NAME.1, NAME.2.gz,
 * NAME-YYYYMMDD[.gz]. docs/tailing.md, "Rotated while stopped". */
#define TAIL_ROTATED_NAMES_DEFAULT "%f.[0-9]* %f-[0-9]*"

/* Where reading of one file stands. Persisted by the caller, given back to
 * tail_restore() after a restart. */
struct tail_position {
	char *path; /* the name it was followed under (owned) */
	uint64_t dev, ino;
	uint64_t offset;      /* end of the last complete line handed out */
	uint64_t line_no;     /* lines handed out so far */
	uint64_t head_hash;   /* hash of the first head_len bytes */
	uint32_t head_len;    /* min(offset, TAIL_HEAD_BYTES) */
	uint64_t before_hash; /* hash of the before_len bytes ending at offset */
	uint32_t before_len;  /* min(offset, TAIL_BEFORE_BYTES) */
	int in_overlong;      /* offset is inside a line already reported as overlong:
	                         resume by skipping to its newline */
};

/* Called for each line in file order; path is the name the file is followed
 * under (borrowed for the call). line_no counts from 1 per file and starts again
 * after a truncation. overlong: see lines.h. The callback may call tail_positions
 * and tail_pause, not tail_free. */
typedef void (*tail_line_fn)(void *ctx, const char *path, const char *line, size_t len,
                             uint64_t line_no, int overlong);

struct tail_settings {
	const char *const *patterns; /* file names or glob(7) patterns */
	size_t pattern_count;
	size_t max_line_bytes;      /* 0: LIMIT_LINE_BYTES_DEFAULT */
	int64_t poll_interval_ms;   /* fstat backstop for every open file (e.g. 1000) */
	int64_t rescan_interval_ms; /* glob re-expansion for new files (e.g. 5000) */
	size_t read_budget_bytes;   /* most bytes read per file per loop turn (fairness);
	                               0: LIMIT_READ_CHUNK */
	int64_t rotate_wait_ms;     /* 0: TAIL_ROTATE_WAIT_DEFAULT_MS */
	const char *rotated_names;  /* NULL or "": TAIL_ROTATED_NAMES_DEFAULT */
};

/* Checks one rotated_names pattern (config.c checks the setting with it). 0, or -1
 * with the reason in err. */
int tail_check_rotated_name(const char *pattern, char *err, size_t errlen);

struct tail_file_stats {
	const char *path;
	uint64_t lines, bytes, rotations, truncations;
};

/* Creates a tailer; nothing is opened until tail_start(). Strings in settings are
 * copied. NULL with a reason in err. */
struct tail *tail_new(struct event_base *base, const struct tail_settings *settings,
                      tail_line_fn fn, void *ctx, char *err, size_t errlen);

/* Gives back positions saved earlier (before tail_start). At tail_start a file whose
 * identity and fingerprints match resumes at its offset. One rotated away while we
 * were down is found among its rotated names (by inode and fingerprints, or as a
 * copytruncate copy by fingerprints) and read to its end first, then every newer
 * rotated file whole, oldest first, then the path's current file from 0. What cannot
 * be read is logged at err and counted (tail_problems). Anything else that does not
 * match (inode reuse, rewrite) starts from 0. Copies what it keeps. */
int tail_restore(struct tail *t, const struct tail_position *positions, size_t count);

/* Expands the patterns, opens the files, arms inotify and the timers. Files that
 * exist at the first start with no restored position are read from the beginning. */
int tail_start(struct tail *t);

/* Back-pressure: stop and resume reading (events keep being noted). A pause from
 * inside the line callback takes effect after the chunk being split. */
void tail_pause(struct tail *t);
void tail_resume(struct tail *t);

/* A snapshot of every followed file's position (after tail_start), exact even when
 * taken from inside the line callback; files let go are no longer listed. Predecessors (a rotated
 * file still being read) come before their successor under the same path. *out is
 * an array the caller frees with tail_positions_free. */
void tail_positions(struct tail *t, struct tail_position **out, size_t *count);
void tail_positions_free(struct tail_position *positions, size_t count);

/* 1 when every followed file has been read to its current end (no pending work). */
int tail_idle(const struct tail *t);

/* Called when a name starts being followed, before its first line (at tail_start
 * for what is there, later for a file that appears); again if the name comes back
 * after its files were let go. rank: see tail_rank. */
typedef void (*tail_follow_fn)(void *ctx, const char *path, uint32_t rank);
void tail_set_follow(struct tail *t, tail_follow_fn fn, void *ctx);

/* A name's place in the inputs' order (reference.md §2): the index of the first pattern
 * that matches it (glob order among one pattern's matches is the names' byte
 * order); the pattern count when none does. */
uint32_t tail_rank(const struct tail *t, const char *path);

/* 1 when nothing followed under path has bytes left to read (also when nothing is
 * followed under it): all it may deliver next is what is written from now on. */
int tail_at_end(const struct tail *t, const char *path);

/* Per-file counters for /metrics: fills up to max entries, returns the count. */
size_t tail_stats(const struct tail *t, struct tail_file_stats *out, size_t max);

/* Paths a pattern matched that are not followed (a directory, a symlink loop or a
 * dangling symlink, a FIFO or device, one that cannot be opened, a rotated name being
 * read): how many distinct ones since tail_new. Each is logged at warning once, with
 * its reason; past 64 paths, further ones go to debug, uncounted. */
uint64_t tail_skipped(const struct tail *t);

/* Files found at restore to hold lines that will never be read (a rotated file deleted
 * or compressed while we were down, a saved file gone): how many since tail_new.
 * *reason (when reason is not NULL) is the last one as it was logged, borrowed until
 * tail_free; "" when there was none. Each one is logged at err when found. */
uint64_t tail_problems(const struct tail *t, const char **reason);

/* Not from inside the line callback. Accepts NULL. */
void tail_free(struct tail *t);

#endif
