/*
 * Every hard limit of chatlogd in one place, each with the reason for its value.
 * Tunables a user may change live in config.h; these are the ceilings behind them.
 */
#ifndef CHATLOGD_LIMITS_H
#define CHATLOGD_LIMITS_H

/* Default and ceiling for max_line_bytes: chat lines are short; 64 KiB holds any
 * real message while keeping one hostile line from pinning memory. */
#define LIMIT_LINE_BYTES_DEFAULT 65536
#define LIMIT_LINE_BYTES_MAX (16 * 1024 * 1024)

/* Read size for batch input and tailing: large enough that syscalls are noise. */
#define LIMIT_READ_CHUNK (1024 * 1024)

/* JSON tokens per line: a record has ~10 fields; 256 leaves room for unknown
 * nested fields while bounding the per-line work. More is a parse error. */
#define LIMIT_JSON_TOKENS 256

/* Lost-reason rules per patterns file and distinct reasons. The reason count is
 * the width of every counter row, so it is kept small. */
#define LIMIT_RULES 256
#define LIMIT_REASONS 48

/* The rules' memo of recent answers (rules.c, struct memo): 2,048 texts of up to
 * 240 bytes (80 Chinese characters: quick replies, robot messages, greetings),
 * about 560 KiB per loaded rule set. Longer texts rarely repeat word for word and
 * are matched every time. */
#define LIMIT_RULES_MEMO_ENTRIES 2048
#define LIMIT_RULES_MEMO_TEXT_BYTES 240

/* An inquiry's transcript for `inquiry` rules (transcript.h): 8 KiB holds a long
 * chat (the jd-dev sessions average about 1 KiB) and bounds what an open inquiry
 * keeps. */
#define LIMIT_TRANSCRIPT_BYTES 8192

/* PCRE2 bounds per match: a catastrophic pattern on a hostile line gives up
 * after this much work (counted as "no match") instead of stalling the engine. */
#define LIMIT_PCRE2_MATCH 200000
#define LIMIT_PCRE2_DEPTH 2000
#define LIMIT_PCRE2_HEAP_KIB 4096

/* Names (shop, agent, buyer) longer than this are an invalid record: they are
 * identifiers, and they become parts of Redis keys. */
#define LIMIT_NAME_BYTES 256

/* The Redis key prefix: short enough that every key fits a fixed buffer with two
 * escaped names (rediskey.h). Real prefixes are a few letters. */
#define LIMIT_PREFIX_BYTES 128

/* Bad lines logged per second (live, all inputs together; batch: the first this many of
 * the run) before further ones are only counted. */
#define LIMIT_ERROR_LOGS_PER_SECOND 10

/* The HTTP endpoint (/metrics, /healthz) serves a scraper or two and a person now and
 * then: 64 connections at once is plenty, and far below the unit's 1,024 open files,
 * which the inputs and Redis need. Headers of a real client fit in 8 KiB; a client
 * silent for 10 s is let go. */
#define LIMIT_HTTP_CONNECTIONS 64
#define LIMIT_HTTP_HEADER_BYTES 8192
#define LIMIT_HTTP_IDLE_SECONDS 10

/* /metrics is rendered and sent in slices of about 128 KiB, one per loop turn, the
 * next once the client has taken the last: rendering takes 7-10 ms per MB on this
 * machine (docs/benchmarks.md, "Scale"), so a slice holds the loop about 1 ms,
 * far below the 10 ms issue 11 allows, while a 10 MB scrape still needs only ~80
 * turns. A client that stops reading holds one slice, not the whole body. */
#define LIMIT_METRICS_SLICE_BYTES (128 * 1024)

/* The dashboard (chatlogctl serve) shares the HTTP limits above. Live alert streams
 * (Server-Sent Events) hold their connection open: at most 32 of them, half the
 * connections, so pages still load with every stream taken; a stream whose reader
 * lets 1 MiB pile up is cut (it is not reading). A shop list is answered 500 shops
 * at most at a time (about 600 KiB of JSON), the alert log's latest 50 entries. */
#define LIMIT_DASHBOARD_STREAMS 32
#define LIMIT_DASHBOARD_STREAM_BYTES (1024 * 1024)
#define LIMIT_DASHBOARD_SHOPS 500
#define LIMIT_DASHBOARD_RECENT_ALERTS 50

/* Alert posts waiting for the webhook: an hour of a busy day's alerts; past it the
 * oldest go (a robot down that long makes them stale, and memory stays bounded). */
#define LIMIT_WEBHOOK_QUEUE 1000

/* A lost reason becomes part of counter names (`lost:REASON`) and Redis hash fields:
 * short identifiers only. */
#define LIMIT_REASON_BYTES 64

/* Config and patterns files are read whole into memory; a real one is a few KiB,
 * so anything past 1 MiB is a mistake (a log file named by accident). */
#define LIMIT_SETTINGS_FILE_BYTES (1024 * 1024)

/* --check-config lists a settings file's errors up to this many, then says there are
 * more: a file that is no settings file at all (a log named by mistake) would fill
 * the terminal, and each error found costs a parse of the file. */
#define LIMIT_CONFIG_ERRORS 100

/* What a counter row waiting for Redis costs, in multiples of its size: the row, and
 * once cut, the Redis commands it is encoded into, which live together until Redis
 * acknowledges the cut. Measured on bench/gen_chatlog's logs: 7823 rows (6.8 MB)
 * became 10.2 MB of batches, 1.5 rows' worth; 3 leaves room for rows with more
 * counters set. max_pending_bytes counts rows not yet cut at this cost, so the cut
 * made when Redis comes back stays within it. */
#define LIMIT_PENDING_ROW_COST 3

/* Records the live merge may hold back while one input waits for another (a backlog
 * read file by file, a writer lagging): 64 MiB holds about 200k chat lines, minutes
 * of a busy day's every shop, while a stuck input cannot take the machine. Past it
 * the earliest go anyway, counted as forced (docs/tailing.md, Merging). */
#define LIMIT_MERGE_HELD_BYTES (64u * 1024 * 1024)

/* Redirects (MOVED, ASK) one Redis Cluster command may follow: a slot moves once
 * during a reshard, and an ASK adds one more hop; more than 5 means the nodes
 * disagree (a stale map bouncing between them), and the command is answered NULL. */
#define LIMIT_CLUSTER_REDIRECTS 5

/* The least time between two CLUSTER SLOTS asked of a Redis Cluster: a reshard
 * answers MOVED to every command in flight, and one refresh serves them all. */
#define LIMIT_CLUSTER_REFRESH_GAP_MS 100

#endif
