/*
 * Group-chat robots (DingTalk, WeCom, Feishu/Lark, or a generic receiver): what each
 * platform takes and answers. The human text of an alert in Chinese or English, the
 * JSON body per platform with its @mention, the signature (加签) per platform, the
 * answer's error code, the per-platform rate limits, the agent → mobile/user-id map
 * and the digest of alerts held back by a rate limit. No I/O but reading the two
 * files it is given (mentions, secret); webhook.c sends.
 */
#ifndef CHATLOGD_ROBOT_H
#define CHATLOGD_ROBOT_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

struct names;

enum robot_kind { ROBOT_AUTO, ROBOT_GENERIC, ROBOT_DINGTALK, ROBOT_WECOM, ROBOT_FEISHU };
enum robot_language { ROBOT_ZH, ROBOT_EN };

/* "auto", "generic", "dingtalk", "wecom", "feishu" (also "lark"): 0, or -1. */
int robot_kind_parse(const char *name, enum robot_kind *out);
const char *robot_kind_name(enum robot_kind kind);

/* The kind a URL's host names: oapi.dingtalk.com, qyapi.weixin.qq.com,
 * open.feishu.cn or open.larksuite.com; anything else is generic. */
enum robot_kind robot_kind_for_host(const char *host);

/* "zh" or "en": 0, or -1. */
int robot_language_parse(const char *name, enum robot_language *out);

/* Posts a robot takes per minute and per second by default, under the platform's
 * limits (DingTalk and WeCom 20/min: 18; Feishu 100/min and 5/s: 90 and 4); 0: none
 * (generic). */
void robot_default_limits(enum robot_kind kind, int64_t *per_minute, int64_t *per_second);

/* ---- answers ---------------------------------------------------------------------------- */

/* The platform's verdict in an answer's body: DingTalk and WeCom {"errcode":N,
 * "errmsg":"..."}, Feishu {"code":N,"msg":"..."} (a generic receiver: errcode, if
 * any). Returns the code, 0 when there is none; copies the message, escaped for a
 * log line, to errmsg. */
long robot_answer_code(enum robot_kind kind, const char *answer, char *errmsg, size_t errmsg_size);

/* 1 when code means "too many messages, try later": DingTalk 130101, WeCom 45009,
 * Feishu 9499 and 11232 (a generic receiver: the DingTalk and WeCom codes). */
int robot_code_rate_limited(enum robot_kind kind, long code);

/* ---- signing (加签) ---------------------------------------------------------------------- */

#define ROBOT_SECRET_BYTES 256

/* Reads the secret: the file's first line (at most ROBOT_SECRET_BYTES - 1 bytes) into
 * out. Warns when others may read the file; never logs or reports the secret itself.
 * 0, or -1 with "FILE: reason" in err. */
int robot_read_secret(const char *path, char out[ROBOT_SECRET_BYTES], char *err, size_t errlen);

/* DingTalk: urlencode(base64(HMAC-SHA256(key = secret, timestamp_ms "\n" secret))).
 * Feishu: base64(HMAC-SHA256(key = timestamp_s "\n" secret, message = empty)).
 * Write NUL-terminated text to out (128 bytes suffice); 0, or -1. */
int robot_sign_dingtalk(const char *secret, int64_t timestamp_ms, char *out, size_t size);
int robot_sign_feishu(const char *secret, int64_t timestamp_s, char *out, size_t size);

/* The request target signed at wall-clock time now_ms: DingTalk appends
 * &timestamp=...&sign=... (or ?...) to target; other kinds need nothing. Returns a
 * heap copy (the caller frees), or NULL when it cannot be signed. */
char *robot_signed_target(enum robot_kind kind, const char *target, const char *secret,
                          int64_t now_ms);

/* The body signed at now_ms: Feishu's JSON object gets "timestamp" (seconds, as a
 * string) and "sign" first; other kinds are copied. Heap copy of *len bytes (updated),
 * or NULL for a body that is not an object or when it cannot be signed. */
char *robot_signed_body(enum robot_kind kind, const char *body, size_t *len, const char *secret,
                        int64_t now_ms);

/* ---- mentions ------------------------------------------------------------------------- */

struct robot_mentions;

/* Reads the agent → mobile or user-id map: one `AGENT<TAB>ID` per line; blank lines
 * and lines starting with '#' are skipped. An ID of 6 to 20 digits (a leading '+'
 * allowed) is a mobile number, anything else of [A-Za-z0-9_.@+-] a user id. NULL with
 * "FILE:LINE: reason" in err. */
struct robot_mentions *robot_mentions_load(const char *path, char *err, size_t errlen);
void robot_mentions_free(struct robot_mentions *m);

/* The ID for agent, or NULL; *mobile says which kind of ID it is. Borrowed. */
const char *robot_mentions_find(const struct robot_mentions *m, const char *agent, int *mobile);

/* ---- messages ------------------------------------------------------------------------- */

/* Who is @mentioned in a message: the agent's ID from the map, or nobody. */
struct robot_mention {
	const char *agent; /* as shown (Feishu's <at> names it) */
	const char *id;    /* NULL: nobody */
	int mobile;        /* id is a mobile number (else a user id) */
};

/* The text for people: the alert in the language, every number as in the JSON
 * (seconds are value_ms / 1000 exactly) and every comparison sign true of them.
 * escalated marks a waiting alert sent to the escalation robot. NUL-terminated, cut
 * short if size is too small. */
size_t robot_alert_text(const struct alert_event *ev, const struct names *names,
                        enum robot_language language, int escalated, char *out, size_t size);

/* The platform's text message carrying text and the mention: generic
 * {"msgtype":"text","text":{"content":...},"alert":<alert_json>} (alert_json NULL:
 * no "alert"), DingTalk {"msgtype":"text","text":{...},"at":{...}}, WeCom
 * {"msgtype":"text","text":{"content":...,"mentioned_mobile_list":[...]}}, Feishu
 * {"msg_type":"text","content":{"text":"... <at user_id=\"ID\">AGENT</at>"}}.
 * Returns its length, cut short (still NUL-terminated) if size is too small. */
size_t robot_body(enum robot_kind kind, const char *text, const struct robot_mention *mention,
                  const char *alert_json, char *out, size_t size);

/* ---- the digest ------------------------------------------------------------------------ */

struct robot_digest;

struct robot_digest *robot_digest_new(void);
void robot_digest_free(struct robot_digest *d);

/* Counts ev (copying its shop and agent names) in the digest. */
void robot_digest_add(struct robot_digest *d, const struct alert_event *ev,
                      const struct names *names);

/* Alerts counted since the last clear. */
uint64_t robot_digest_count(const struct robot_digest *d);

/* The digest's text: how many alerts were held back under per_minute, then per shop
 * and agent the count per type, in the order they first came. */
size_t robot_digest_text(const struct robot_digest *d, enum robot_language language,
                         int64_t per_minute, char *out, size_t size);

void robot_digest_clear(struct robot_digest *d);

#endif
