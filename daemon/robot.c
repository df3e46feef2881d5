/*
 * robot.c owns what group-chat robots take and answer: platform kinds, the text of
 * alerts and digests in Chinese and English, the JSON body per platform with its
 * @mention, signing (加签), error codes, default rate limits, the mention map and the
 * digest tally. It sends nothing and keeps no clock: webhook.c does both.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/names.h"
#include "chatlogd/robot.h"
#include "chatlogd/secret.h"
#include "chatlogd/json_write.h"
#include "chatlogd/util.h"

/* Agents a digest names one by one; the rest are summed in its last line. */
#define DIGEST_LINES 10
/* Agents a digest tallies apart; past that, alerts only add to the "others" count. */
#define DIGEST_AGENTS_MAX 200
/* Longest mention ID: DingTalk and WeCom user ids and Feishu open_ids are shorter. */
#define MENTION_ID_BYTES 64

/* ---- kinds ------------------------------------------------------------------------------ */

static const char *const kind_names[] = {
    [ROBOT_AUTO] = "auto",   [ROBOT_GENERIC] = "generic", [ROBOT_DINGTALK] = "dingtalk",
    [ROBOT_WECOM] = "wecom", [ROBOT_FEISHU] = "feishu",
};

int robot_kind_parse(const char *name, enum robot_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(name, kind_names[i]) == 0) {
			*out = (enum robot_kind)i;
			return 0;
		}
	if (strcmp(name, "lark") == 0) {
		*out = ROBOT_FEISHU;
		return 0;
	}
	return -1;
}

const char *robot_kind_name(enum robot_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

enum robot_kind robot_kind_for_host(const char *host)
{
	if (strcasecmp(host, "oapi.dingtalk.com") == 0)
		return ROBOT_DINGTALK;
	if (strcasecmp(host, "qyapi.weixin.qq.com") == 0)
		return ROBOT_WECOM;
	if (strcasecmp(host, "open.feishu.cn") == 0 || strcasecmp(host, "open.larksuite.com") == 0)
		return ROBOT_FEISHU;
	return ROBOT_GENERIC;
}

int robot_language_parse(const char *name, enum robot_language *out)
{
	if (strcmp(name, "zh") == 0)
		*out = ROBOT_ZH;
	else if (strcmp(name, "en") == 0)
		*out = ROBOT_EN;
	else
		return -1;
	return 0;
}

/* Below the documented limits by a margin: clocks differ, and a retried post the
 * platform did count is counted again here only when it is sent again. */
void robot_default_limits(enum robot_kind kind, int64_t *per_minute, int64_t *per_second)
{
	*per_minute = 0;
	*per_second = 0;
	if (kind == ROBOT_DINGTALK || kind == ROBOT_WECOM) {
		*per_minute = 18; /* 20 a minute; DingTalk blocks the robot 10 minutes past it */
	} else if (kind == ROBOT_FEISHU) {
		*per_minute = 90; /* 100 a minute */
		*per_second = 4;  /* 5 a second */
	}
}

/* ---- answers ------------------------------------------------------------------------------ */

/* The number after "key": in answer, or 0 (*found 0) when there is none. */
static long json_number_after(const char *answer, const char *key, int *found)
{
	const char *p = strstr(answer, key);

	*found = 0;
	if (p == NULL)
		return 0;
	p += strlen(key);
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return 0;
	*found = 1;
	return strtol(p, NULL, 10);
}

static void json_text_after(const char *answer, const char *key, char *out, size_t size)
{
	const char *p = strstr(answer, key), *end;

	out[0] = '\0';
	if (p == NULL || (p = strchr(p + strlen(key), '"')) == NULL)
		return;
	end = strchr(p + 1, '"');
	log_escape(out, size, p + 1, end ? (size_t)(end - p - 1) : strlen(p + 1));
}

long robot_answer_code(enum robot_kind kind, const char *answer, char *errmsg, size_t errmsg_size)
{
	int feishu = kind == ROBOT_FEISHU, found;
	long code = json_number_after(answer, feishu ? "\"code\"" : "\"errcode\"", &found);

	errmsg[0] = '\0';
	if (found && code != 0)
		json_text_after(answer, feishu ? "\"msg\"" : "\"errmsg\"", errmsg, errmsg_size);
	return code;
}

int robot_code_rate_limited(enum robot_kind kind, long code)
{
	switch (kind) {
	case ROBOT_DINGTALK:
		return code == 130101; /* send too fast */
	case ROBOT_WECOM:
		return code == 45009; /* api freq out of limit */
	case ROBOT_FEISHU:
		return code == 9499 || code == 11232; /* too many requests; flow control */
	default:
		return code == 130101 || code == 45009;
	}
}

/* ---- signing ---------------------------------------------------------------------------- */

int robot_read_secret(const char *path, char out[ROBOT_SECRET_BYTES], char *err, size_t errlen)
{
	int len = secret_read_file(path, "secret", "webhook", out, ROBOT_SECRET_BYTES, err, errlen);

	if (len == -1)
		return -1;
	/* blanks an editor left at the end are no part of a robot's secret */
	while (len > 0 && (out[len - 1] == ' ' || out[len - 1] == '\t'))
		out[--len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: secret file's first line is empty", path);
		return -1;
	}
	return 0;
}

/* base64(HMAC-SHA256(key, message)) into out (45 bytes with the NUL). */
static int hmac_base64(const char *key, size_t key_len, const char *message, size_t message_len,
                       char out[45])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
	              (const unsigned char *)message, message_len, mac, sizeof(mac),
	              &mac_len) == NULL ||
	    mac_len != 32)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len); /* 44 characters and NUL */
	return 0;
}

int robot_sign_dingtalk(const char *secret, int64_t timestamp_ms, char *out, size_t size)
{
	char to_sign[ROBOT_SECRET_BYTES + 32], sign[45], *p = out;
	int n = snprintf(to_sign, sizeof(to_sign), "%" PRId64 "\n%s", timestamp_ms, secret);

	if (n < 0 || (size_t)n >= sizeof(to_sign) ||
	    hmac_base64(secret, strlen(secret), to_sign, (size_t)n, sign) == -1 ||
	    size < 3 * 44 + 1)
		return -1;
	/* URL-encode: base64's '+', '/' and '=' are the only bytes that need it. */
	for (const char *s = sign; *s != '\0'; s++) {
		if (*s == '+' || *s == '/' || *s == '=')
			p += sprintf(p, "%%%02X", (unsigned char)*s);
		else
			*p++ = *s;
	}
	*p = '\0';
	return 0;
}

int robot_sign_feishu(const char *secret, int64_t timestamp_s, char *out, size_t size)
{
	char to_sign[ROBOT_SECRET_BYTES + 32];
	int n = snprintf(to_sign, sizeof(to_sign), "%" PRId64 "\n%s", timestamp_s, secret);

	/* The key is the string to sign and the message is empty: Feishu's own recipe. */
	if (n < 0 || (size_t)n >= sizeof(to_sign) || size < 45)
		return -1;
	return hmac_base64(to_sign, (size_t)n, "", 0, out);
}

char *robot_signed_target(enum robot_kind kind, const char *target, const char *secret,
                          int64_t now_ms)
{
	char sign[160], *out;
	size_t size;

	if (kind != ROBOT_DINGTALK || secret == NULL || secret[0] == '\0')
		return xstrdup(target);
	if (robot_sign_dingtalk(secret, now_ms, sign, sizeof(sign)) == -1)
		return NULL;
	size = strlen(target) + strlen(sign) + 64;
	out = xmalloc(size);
	snprintf(out, size, "%s%ctimestamp=%" PRId64 "&sign=%s", target,
	         strchr(target, '?') ? '&' : '?', now_ms, sign);
	return out;
}

char *robot_signed_body(enum robot_kind kind, const char *body, size_t *len, const char *secret,
                        int64_t now_ms)
{
	char head[256], sign[64];
	int64_t seconds = now_ms / 1000;
	size_t head_len;
	char *out;

	if (kind != ROBOT_FEISHU || secret == NULL || secret[0] == '\0') {
		out = xmalloc(*len);
		memcpy(out, body, *len);
		return out;
	}
	if (*len < 2 || body[0] != '{' ||
	    robot_sign_feishu(secret, seconds, sign, sizeof(sign)) == -1)
		return NULL;
	head_len =
	    (size_t)snprintf(head, sizeof(head), "{\"timestamp\":\"%" PRId64 "\",\"sign\":\"%s\"%s",
	                     seconds, sign, body[1] == '}' ? "" : ",");
	out = xmalloc(head_len + *len);
	memcpy(out, head, head_len);
	memcpy(out + head_len, body + 1, *len - 1);
	*len = head_len + *len - 1;
	return out;
}

/* ---- mentions --------------------------------------------------------------------------- */

struct mention_entry {
	char *agent;
	char id[MENTION_ID_BYTES + 1];
	int mobile;
	unsigned line;
};

struct robot_mentions {
	struct mention_entry *entries;
	size_t count, capacity;
};

void robot_mentions_free(struct robot_mentions *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		free(m->entries[i].agent);
	free(m->entries);
	free(m);
}

static int is_mobile(const char *id)
{
	size_t digits = strspn(id + (id[0] == '+'), "0123456789");
	return id[(id[0] == '+') + digits] == '\0' && digits >= 6 && digits <= 20;
}

/* One `AGENT<TAB>ID` line (without its newline) into m; NULL, or the reason. */
static const char *mention_line(struct robot_mentions *m, char *line, unsigned number)
{
	char *tab = strchr(line, '\t'), *id;
	struct mention_entry *e;
	size_t id_len;

	if (tab == NULL)
		return "expected AGENT<TAB>ID";
	*tab = '\0';
	id = tab + 1;
	id_len = strlen(id);
	while (id_len > 0 && (id[id_len - 1] == ' ' || id[id_len - 1] == '\r'))
		id[--id_len] = '\0';
	if (line[0] == '\0' || strlen(line) > LIMIT_NAME_BYTES)
		return "the agent's name is empty or too long";
	if (id_len == 0 || id_len > MENTION_ID_BYTES ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+-") !=
	        id_len)
		return "the ID must be 1 to 64 of A-Z a-z 0-9 _ . @ + -";
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->entries[i].agent, line) == 0)
			return "the agent is already mapped on an earlier line";
	if (m->count == m->capacity) {
		size_t capacity = m->capacity ? m->capacity * 2 : 16;
		m->entries = xreallocarray(m->entries, capacity, sizeof(*m->entries));
		m->capacity = capacity;
	}
	e = &m->entries[m->count];
	e->agent = xstrdup(line);
	memcpy(e->id, id, id_len + 1);
	e->mobile = is_mobile(id);
	e->line = number;
	m->count++;
	return NULL;
}

struct robot_mentions *robot_mentions_load(const char *path, char *err, size_t errlen)
{
	struct robot_mentions *m = xcalloc(1, sizeof(*m));
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	unsigned number = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while ((n = getline(&line, &size, f)) != -1) {
		const char *reason;
		number++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((reason = mention_line(m, line, number)) != NULL) {
			snprintf(err, errlen, "%s:%u: %s", path, number, reason);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	return m;
fail:
	free(line);
	if (f != NULL)
		fclose(f);
	robot_mentions_free(m);
	return NULL;
}

const char *robot_mentions_find(const struct robot_mentions *m, const char *agent, int *mobile)
{
	for (size_t i = 0; m != NULL && i < m->count; i++)
		if (strcmp(m->entries[i].agent, agent) == 0) {
			*mobile = m->entries[i].mobile;
			return m->entries[i].id;
		}
	*mobile = 0;
	return NULL;
}

/* ---- text --------------------------------------------------------------------------------- */

/* Milliseconds as seconds, exactly: 12500 -> "12.5", 10000 -> "10", 10167 -> "10.167".
 * Rounding could print "6 s > 6 s" for 6040 ms over 6000; exact digits never lie. */
static void seconds_text(int64_t ms, char out[32])
{
	const char *sign = ms < 0 ? "-" : "";
	uint64_t magnitude = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	uint64_t whole = magnitude / 1000, part = magnitude % 1000;
	int digits = 3;

	if (part == 0) {
		snprintf(out, 32, "%s%" PRIu64, sign, whole);
		return;
	}
	while (part % 10 == 0) {
		part /= 10;
		digits--;
	}
	snprintf(out, 32, "%s%" PRIu64 ".%0*" PRIu64, sign, whole, digits, part);
}

/* The sign that is true of value against target. */
static const char *comparison(int64_t value, int64_t target)
{
	return value > target ? ">" : value < target ? "<" : "=";
}

static void text_zh(const struct alert_event *ev, const char *shop, const char *agent,
                    int escalated, char **p, char *end)
{
	const char *metric = alert_is_frt(ev) ? "首响" : "响应";
	char value[32], target[32];

	seconds_text(ev->value_ms, value);
	seconds_text(ev->target_ms, target);
	if (ev->type == ALERT_WARNING) {
		alert_put(
		    p, end,
		    "【chatlogd】即将超时：店铺 %s 客服 %s 的买家 %s 已等待 %s 秒 %s %s目标 %s 秒",
		    shop, agent, ev->buyer, value, comparison(ev->value_ms, ev->target_ms), metric,
		    target);
	} else if (ev->type == ALERT_WAITING) {
		alert_put(p, end,
		          "【chatlogd】%s：店铺 %s 客服 %s 的买家 %s 已等待 %s 秒 %s %s目标 %s 秒",
		          escalated ? "升级·买家久等" : "买家等待", shop, agent, ev->buyer, value,
		          comparison(ev->value_ms, ev->target_ms), metric, target);
	} else if (alert_is_expired(ev) && ev->samples == 0) {
		alert_put(p, end,
		          "【chatlogd】告警失效：店铺 %s 客服 %s 近 %" PRId64
		          " 秒已无%s样本，无法判断是否恢复",
		          shop, agent, ev->window_s, metric);
	} else if (alert_is_expired(ev)) {
		alert_put(p, end,
		          "【chatlogd】告警失效：店铺 %s 客服 %s 近 %" PRId64 " 秒只剩 %" PRId64
		          " 个%s样本（平均 %s 秒），样本不足，无法判断是否恢复",
		          shop, agent, ev->window_s, ev->samples, metric, value);
	} else {
		alert_put(p, end,
		          "【chatlogd】%s：店铺 %s 客服 %s 近 %" PRId64
		          " 秒平均%s %s 秒 %s 目标 %s 秒（%" PRId64 " 个样本）",
		          ev->type == ALERT_RAISED ? "告警" : "恢复", shop, agent, ev->window_s,
		          metric, value, comparison(ev->value_ms, ev->target_ms), target,
		          ev->samples);
	}
}

static void text_en(const struct alert_event *ev, const char *shop, const char *agent,
                    int escalated, char **p, char *end)
{
	const char *metric = alert_is_frt(ev) ? "first response" : "response";
	char value[32], target[32];

	seconds_text(ev->value_ms, value);
	seconds_text(ev->target_ms, target);
	if (ev->type == ALERT_WARNING) {
		alert_put(p, end,
		          "【chatlogd】warning: shop %s, agent %s: buyer %s has waited %s s %s %s "
		          "target %s s",
		          shop, agent, ev->buyer, value, comparison(ev->value_ms, ev->target_ms),
		          metric, target);
	} else if (ev->type == ALERT_WAITING) {
		alert_put(
		    p, end,
		    "【chatlogd】%s: shop %s, agent %s: buyer %s has waited %s s %s %s target %s s",
		    escalated ? "escalated, buyer still waiting" : "waiting", shop, agent,
		    ev->buyer, value, comparison(ev->value_ms, ev->target_ms), metric, target);
	} else if (alert_is_expired(ev) && ev->samples == 0) {
		alert_put(p, end,
		          "【chatlogd】expired: shop %s, agent %s: no %s samples left in the last "
		          "%" PRId64 " s, so whether it recovered is unknown",
		          shop, agent, metric, ev->window_s);
	} else if (alert_is_expired(ev)) {
		alert_put(p, end,
		          "【chatlogd】expired: shop %s, agent %s: only %" PRId64
		          " %s sample%s left in the last %" PRId64
		          " s (average %s s), too few to tell whether it recovered",
		          shop, agent, ev->samples, metric, ev->samples == 1 ? "" : "s",
		          ev->window_s, value);
	} else {
		alert_put(p, end,
		          "【chatlogd】%s: shop %s, agent %s: average %s over the last %" PRId64
		          " s %s s %s target %s s (%" PRId64 " sample%s)",
		          ev->type == ALERT_RAISED ? "raised" : "cleared", shop, agent, metric,
		          ev->window_s, value, comparison(ev->value_ms, ev->target_ms), target,
		          ev->samples, ev->samples == 1 ? "" : "s");
	}
}

size_t robot_alert_text(const struct alert_event *ev, const struct names *names,
                        enum robot_language language, int escalated, char *out, size_t size)
{
	const char *shop = names_get(names, ev->shop), *agent = names_get(names, ev->agent);
	char *p = out;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (language == ROBOT_EN)
		text_en(ev, shop, agent, escalated, &p, out + size);
	else
		text_zh(ev, shop, agent, escalated, &p, out + size);
	return (size_t)(p - out);
}

/* ["ID"] as a JSON array member list, or nothing. */
static void id_list(char **p, char *end, const char *key, const char *id)
{
	alert_put(p, end, "\"%s\":[\"", key);
	json_write_escape(p, end, id, strlen(id));
	alert_put(p, end, "\"]");
}

size_t robot_body(enum robot_kind kind, const char *text, const struct robot_mention *mention,
                  const char *alert_json, char *out, size_t size)
{
	const char *id = mention != NULL ? mention->id : NULL;
	int mobile = mention != NULL && mention->mobile;
	char *p = out, *end = out + size;

	if (size < 256) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	/* Room kept for what closes the object once the text is in. */
	end = out + size - 128 - (id ? 2 * MENTION_ID_BYTES : 0);
	out[0] = '\0';
	switch (kind) {
	case ROBOT_FEISHU:
		alert_put(&p, end, "{\"msg_type\":\"text\",\"content\":{\"text\":\"");
		json_write_escape(&p, end, text, strlen(text));
		/* Feishu custom bots @ by open_id or user_id only, not by mobile number. */
		if (id != NULL && !mobile) {
			json_write_escape(&p, end, " <at user_id=\"",
			                  sizeof(" <at user_id=\"") - 1);
			json_write_escape(&p, end, id, strlen(id));
			json_write_escape(&p, end, "\">", sizeof("\">") - 1);
			json_write_escape(&p, end, mention->agent, strlen(mention->agent));
			json_write_escape(&p, end, "</at>", sizeof("</at>") - 1);
		}
		end = out + size;
		alert_put(&p, end, "\"}}");
		break;
	case ROBOT_WECOM:
		alert_put(&p, end, "{\"msgtype\":\"text\",\"text\":{\"content\":\"");
		json_write_escape(&p, end, text, strlen(text));
		end = out + size;
		alert_put(&p, end, "\"");
		if (id != NULL) {
			alert_put(&p, end, ",");
			id_list(&p, end, mobile ? "mentioned_mobile_list" : "mentioned_list", id);
		}
		alert_put(&p, end, "}}");
		break;
	case ROBOT_DINGTALK:
		alert_put(&p, end, "{\"msgtype\":\"text\",\"text\":{\"content\":\"");
		json_write_escape(&p, end, text, strlen(text));
		/* DingTalk renders the @ only when the content names it too. */
		if (id != NULL) {
			json_write_escape(&p, end, " @", sizeof(" @") - 1);
			json_write_escape(&p, end, id, strlen(id));
		}
		end = out + size;
		alert_put(&p, end, "\"},\"at\":{");
		if (id != NULL) {
			id_list(&p, end, mobile ? "atMobiles" : "atUserIds", id);
			alert_put(&p, end, ",");
		}
		alert_put(&p, end, "\"isAtAll\":false}}");
		break;
	default:
		alert_put(&p, end, "{\"msgtype\":\"text\",\"text\":{\"content\":\"");
		json_write_escape(&p, end, text, strlen(text));
		end = out + size;
		alert_put(&p, end, "\"}");
		if (alert_json != NULL && (size_t)(end - p) > strlen(alert_json) + 12)
			alert_put(&p, end, ",\"alert\":%s", alert_json);
		alert_put(&p, end, "}");
		break;
	}
	return (size_t)(p - out);
}

/* ---- the digest ------------------------------------------------------------------------- */

/* Counts per message type, in this order. */
enum digest_slot {
	SLOT_RAISED,
	SLOT_CLEARED,
	SLOT_WAITING,
	SLOT_EXPIRED,
	SLOT_WARNING,
	SLOT_COUNT
};

struct digest_entry {
	char *shop, *agent;
	uint64_t counts[SLOT_COUNT];
};

struct robot_digest {
	struct digest_entry *entries;
	size_t count, capacity;
	uint64_t total;
	uint64_t others; /* alerts of agents past DIGEST_AGENTS_MAX */
};

struct robot_digest *robot_digest_new(void)
{
	return xcalloc(1, sizeof(struct robot_digest));
}

void robot_digest_clear(struct robot_digest *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->entries[i].shop);
		free(d->entries[i].agent);
	}
	d->count = 0;
	d->total = 0;
	d->others = 0;
}

void robot_digest_free(struct robot_digest *d)
{
	if (d == NULL)
		return;
	robot_digest_clear(d);
	free(d->entries);
	free(d);
}

static enum digest_slot slot_of(const struct alert_event *ev)
{
	if (ev->type == ALERT_RAISED)
		return SLOT_RAISED;
	if (ev->type == ALERT_WAITING)
		return SLOT_WAITING;
	if (ev->type == ALERT_WARNING)
		return SLOT_WARNING;
	return alert_is_expired(ev) ? SLOT_EXPIRED : SLOT_CLEARED;
}

void robot_digest_add(struct robot_digest *d, const struct alert_event *ev,
                      const struct names *names)
{
	const char *shop = names_get(names, ev->shop), *agent = names_get(names, ev->agent);
	struct digest_entry *e = NULL;

	d->total++;
	for (size_t i = 0; i < d->count && e == NULL; i++)
		if (strcmp(d->entries[i].shop, shop) == 0 &&
		    strcmp(d->entries[i].agent, agent) == 0)
			e = &d->entries[i];
	if (e == NULL && d->count < DIGEST_AGENTS_MAX) {
		if (d->count == d->capacity) {
			size_t capacity = d->capacity ? d->capacity * 2 : 8;
			d->entries = xreallocarray(d->entries, capacity, sizeof(*d->entries));
			d->capacity = capacity;
		}
		e = &d->entries[d->count];
		memset(e, 0, sizeof(*e));
		e->shop = xstrdup(shop);
		e->agent = xstrdup(agent);
		d->count++;
	}
	if (e == NULL)
		d->others++;
	else
		e->counts[slot_of(ev)]++;
}

uint64_t robot_digest_count(const struct robot_digest *d)
{
	return d->total;
}

size_t robot_digest_text(const struct robot_digest *d, enum robot_language language,
                         int64_t per_minute, char *out, size_t size)
{
	static const char *const zh[SLOT_COUNT] = {"告警", "恢复", "买家等待", "告警失效",
	                                           "即将超时"};
	static const char *const en[SLOT_COUNT] = {"raised", "cleared", "waiting", "expired",
	                                           "warning"};
	const char *const *slots = language == ROBOT_EN ? en : zh;
	uint64_t rest = d->others;
	char *p = out, *end = out + size;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (language == ROBOT_EN)
		alert_put(&p, end,
		          "【chatlogd】digest: the robot takes at most %" PRId64
		          " messages a minute; %" PRIu64 " more alert%s were not sent one by one:",
		          per_minute, d->total, d->total == 1 ? "" : "s");
	else
		alert_put(&p, end,
		          "【chatlogd】限流汇总：机器人每分钟最多发 %" PRId64 " 条，另有 %" PRIu64
		          " 条提醒未单独发送：",
		          per_minute, d->total);
	for (size_t i = 0; i < d->count; i++) {
		const struct digest_entry *e = &d->entries[i];
		const char *sep = "";
		if (i >= DIGEST_LINES) {
			for (int s = 0; s < SLOT_COUNT; s++)
				rest += e->counts[s];
			continue;
		}
		if (language == ROBOT_EN)
			alert_put(&p, end, "\nshop %s, agent %s: ", e->shop, e->agent);
		else
			alert_put(&p, end, "\n店铺 %s 客服 %s：", e->shop, e->agent);
		for (int s = 0; s < SLOT_COUNT; s++) {
			if (e->counts[s] == 0)
				continue;
			alert_put(&p, end, "%s%s %" PRIu64, sep, slots[s], e->counts[s]);
			sep = language == ROBOT_EN ? ", " : "，";
		}
	}
	if (rest > 0) {
		if (language == ROBOT_EN)
			alert_put(&p, end, "\n...and %" PRIu64 " more for other agents", rest);
		else
			alert_put(&p, end, "\n……其他客服另有 %" PRIu64 " 条", rest);
	}
	return (size_t)(p - out);
}
