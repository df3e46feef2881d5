/*
 * Tests for robot.c: the text of every alert case in Chinese and English, byte for
 * byte, and a sweep that every number and comparison sign in the text is true of the
 * JSON; the signatures against vectors computed apart (Python's hmac) and against
 * OpenSSL's one-shot HMAC(); the body per platform with its @mention; the mention
 * map's format and errors; the digest; answers and rate-limit codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "chatlogd/names.h"
#include "chatlogd/robot.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/timefmt.h"
#include "check.h"

#define T0 1795485600000LL /* 2026-11-24T10:00:00+08:00 */
#define SECRET "SECtest0123456789abcdef"

/* len bytes at got are exactly want (got need not be NUL-terminated). */
#define CHECK_STR_N(got, len, want)                                                                \
	CHECK((len) == strlen(want) && memcmp((got), (want), (len)) == 0)

static char tmp_dir[64];

static struct alert_event event(struct names *names, enum alert_type type, int frt,
                                int64_t value_ms, int64_t target_ms, int64_t samples)
{
	struct alert_event ev = {.type = type,
	                         .shop = names_intern(names, "s1", 2),
	                         .agent = names_intern(names, "alice", 5),
	                         .frt = frt,
	                         .value_ms = value_ms,
	                         .target_ms = target_ms,
	                         .samples = samples,
	                         .window_s = 300,
	                         .ts_ms = T0};
	if (type == ALERT_WAITING || type == ALERT_WARNING)
		snprintf(ev.buyer, sizeof(ev.buyer), "tb_buyer");
	return ev;
}

static void check_text(const struct alert_event *ev, const struct names *names,
                       enum robot_language language, int escalated, const char *want)
{
	char out[2048];
	size_t len = robot_alert_text(ev, names, language, escalated, out, sizeof(out));
	CHECK_STR(out, want);
	CHECK_INT(len, strlen(want));
}

/* warn_at (issue 10): the buyer has waited 4 s of the 6 s target; the sign is the
 * numbers' own. */
static void test_warning_texts_and_json(void)
{
	struct names *names = names_new();
	struct alert_event ev = event(names, ALERT_WARNING, ALERT_FRT, 4020, 6000, 1);
	char json[1024];

	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】即将超时：店铺 s1 客服 alice 的买家 tb_buyer 已等待 4.02 秒 < 首响目标 "
	    "6 秒");
	check_text(&ev, names, ROBOT_EN, 0,
	           "【chatlogd】warning: shop s1, agent alice: buyer tb_buyer has waited 4.02 s < "
	           "first response target 6 s");
	alert_format(&ev, names, json, sizeof(json));
	CHECK(strstr(json, "{\"type\":\"warning\",\"shop\":\"s1\",\"agent\":\"alice\","
	                   "\"buyer\":\"tb_buyer\",\"metric\":\"frt\",\"value_ms\":4020,"
	                   "\"target_ms\":6000,") == json);
	names_free(names);
}

/* ---- texts ------------------------------------------------------------------------------ */

static void test_texts_in_chinese_for_every_case(void)
{
	struct names *names = names_new();
	struct alert_event ev;

	ev = event(names, ALERT_RAISED, ALERT_FRT, 9000, 6000, 3);
	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】告警：店铺 s1 客服 alice 近 300 秒平均首响 9 秒 > 目标 6 秒（3 个样本）");
	ev = event(names, ALERT_RAISED, 0, 10167, 10000, 6);
	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】告警：店铺 s1 客服 alice 近 300 秒平均响应 10.167 秒 > 目标 10 秒（6 "
	    "个样本）");
	ev = event(names, ALERT_CLEARED, ALERT_FRT, 5800, 6000, 5);
	check_text(&ev, names, ROBOT_ZH, 0,
	           "【chatlogd】恢复：店铺 s1 客服 alice 近 300 秒平均首响 5.8 秒 < 目标 6 秒（5 "
	           "个样本）");
	ev = event(names, ALERT_CLEARED, ALERT_FRT, 6000, 6000, 3);
	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】恢复：店铺 s1 客服 alice 近 300 秒平均首响 6 秒 = 目标 6 秒（3 个样本）");
	/* issue 10's lie, told truly */
	ev = event(names, ALERT_CLEARED, ALERT_FRT | ALERT_EXPIRED, 17700, 6000, 2);
	check_text(&ev, names, ROBOT_ZH, 0,
	           "【chatlogd】告警失效：店铺 s1 客服 alice 近 300 秒只剩 2 个首响样本（平均 17.7 "
	           "秒），样本不足，无法判断是否恢复");
	ev = event(names, ALERT_CLEARED, ALERT_EXPIRED, 0, 10000, 0);
	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】告警失效：店铺 s1 客服 alice 近 300 秒已无响应样本，无法判断是否恢复");
	ev = event(names, ALERT_WAITING, ALERT_FRT, 7480, 6000, 1);
	check_text(
	    &ev, names, ROBOT_ZH, 0,
	    "【chatlogd】买家等待：店铺 s1 客服 alice 的买家 tb_buyer 已等待 7.48 秒 > 首响目标 6 "
	    "秒");
	ev = event(names, ALERT_WAITING, 0, 65000, 10000, 1);
	check_text(&ev, names, ROBOT_ZH, 1,
	           "【chatlogd】升级·买家久等：店铺 s1 客服 alice 的买家 tb_buyer 已等待 65 秒 > "
	           "响应目标 10 秒");
	names_free(names);
}

static void test_texts_in_english_for_every_case(void)
{
	struct names *names = names_new();
	struct alert_event ev;

	ev = event(names, ALERT_RAISED, 0, 12500, 10000, 7);
	check_text(&ev, names, ROBOT_EN, 0,
	           "【chatlogd】raised: shop s1, agent alice: average response over the last 300 s "
	           "12.5 s > target 10 s (7 samples)");
	ev = event(names, ALERT_CLEARED, ALERT_FRT, 5400, 6000, 4);
	check_text(
	    &ev, names, ROBOT_EN, 0,
	    "【chatlogd】cleared: shop s1, agent alice: average first response over the last "
	    "300 s 5.4 s < target 6 s (4 samples)");
	ev = event(names, ALERT_CLEARED, ALERT_FRT | ALERT_EXPIRED, 17700, 6000, 1);
	check_text(
	    &ev, names, ROBOT_EN, 0,
	    "【chatlogd】expired: shop s1, agent alice: only 1 first response sample left in "
	    "the last 300 s (average 17.7 s), too few to tell whether it recovered");
	ev = event(names, ALERT_CLEARED, ALERT_FRT | ALERT_EXPIRED, 0, 6000, 0);
	check_text(
	    &ev, names, ROBOT_EN, 0,
	    "【chatlogd】expired: shop s1, agent alice: no first response samples left in the "
	    "last 300 s, so whether it recovered is unknown");
	ev = event(names, ALERT_WAITING, ALERT_FRT, 6001, 6000, 1);
	check_text(&ev, names, ROBOT_EN, 0,
	           "【chatlogd】waiting: shop s1, agent alice: buyer tb_buyer has waited 6.001 s > "
	           "first response target 6 s");
	check_text(
	    &ev, names, ROBOT_EN, 1,
	    "【chatlogd】escalated, buyer still waiting: shop s1, agent alice: buyer tb_buyer "
	    "has waited 6.001 s > first response target 6 s");
	names_free(names);
}

/* Reads "N 秒 SIGN 目标 M 秒" back out of a Chinese text: the numbers as milliseconds. */
static int parse_comparison(const char *text, int64_t *value, char *sign, int64_t *target)
{
	const char *p = strstr(text, "平均");
	double v, t;
	char s[4];

	if (p == NULL)
		return -1;
	p += strlen("平均") + strlen("首响");
	if (sscanf(p, "%lf 秒 %3s 目标 %lf 秒", &v, s, &t) != 3)
		return -1;
	*value = (int64_t)(v * 1000 + 0.5);
	*target = (int64_t)(t * 1000 + 0.5);
	*sign = s[0];
	return 0;
}

/* Every value around the target, the old rounding's trap (6040 "6 s > 6 s") included:
 * the text's numbers are the JSON's and its sign is true of them. */
static void test_numbers_and_signs_match_the_json(void)
{
	struct names *names = names_new();
	static const int64_t values[] = {0,    1,    999,  5949, 5950, 5999,  6000,
	                                 6001, 6040, 6049, 6050, 9999, 123456};
	int bad = 0;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		for (int type = ALERT_RAISED; type <= ALERT_CLEARED; type++) {
			struct alert_event ev =
			    event(names, (enum alert_type)type, ALERT_FRT, values[i], 6000, 3);
			char text[1024], sign;
			int64_t value, target;
			robot_alert_text(&ev, names, ROBOT_ZH, 0, text, sizeof(text));
			if (parse_comparison(text, &value, &sign, &target) == -1 ||
			    value != ev.value_ms || target != ev.target_ms ||
			    sign != (value > target   ? '>'
			             : value < target ? '<'
			                              : '=')) {
				fprintf(stderr, "  untrue: %s\n", text);
				bad++;
			}
		}
	}
	CHECK_INT(bad, 0);
	names_free(names);
}

/* ---- signing ---------------------------------------------------------------------------- */

static void test_dingtalk_signature_matches_the_reference(void)
{
	char sign[160];

	/* python3: base64(hmac.new(secret, f"{ts}\n{secret}", sha256)), quote_plus */
	CHECK_INT(robot_sign_dingtalk(SECRET, T0, sign, sizeof(sign)), 0);
	CHECK_STR(sign, "EGt%2BPbPWAQdsxg1vGggDbIu%2FHfye9goVgzTep4Q5kYo%3D");
	CHECK_INT(robot_sign_dingtalk(SECRET, T0, sign, 100), -1); /* too small */
}

static void test_feishu_signature_matches_the_reference(void)
{
	char sign[64];

	/* python3: base64(hmac.new(f"{ts}\n{secret}", b"", sha256)) */
	CHECK_INT(robot_sign_feishu(SECRET, T0 / 1000, sign, sizeof(sign)), 0);
	CHECK_STR(sign, "HoA74TzMc6A+R07yQXFop9clrg36TskTT3quaPWT7TA=");
}

/* Against OpenSSL's one-shot HMAC(), another road than the EVP_Q_mac robot.c takes. */
static void test_signatures_match_openssl_hmac_for_many_timestamps(void)
{
	for (int64_t ts = T0; ts < T0 + 5000; ts += 997) {
		unsigned char mac[32];
		unsigned len = 0;
		char to_sign[128], b64[64], want[64], got[160];
		int n = snprintf(to_sign, sizeof(to_sign), "%lld\n%s", (long long)ts, SECRET);
		HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)to_sign, (size_t)n,
		     mac, &len);
		EVP_EncodeBlock((unsigned char *)b64, mac, 32);
		robot_sign_dingtalk(SECRET, ts, got, sizeof(got));
		/* undo the URL encoding to compare */
		{
			char *w = want;
			for (const char *r = got; *r; r++) {
				if (r[0] == '%') {
					unsigned c;
					sscanf(r + 1, "%2x", &c);
					*w++ = (char)c;
					r += 2;
				} else {
					*w++ = *r;
				}
			}
			*w = '\0';
		}
		CHECK_STR(want, b64);
		n = snprintf(to_sign, sizeof(to_sign), "%lld\n%s", (long long)(ts / 1000), SECRET);
		HMAC(EVP_sha256(), to_sign, n, (const unsigned char *)"", 0, mac, &len);
		EVP_EncodeBlock((unsigned char *)b64, mac, 32);
		robot_sign_feishu(SECRET, ts / 1000, got, sizeof(got));
		CHECK_STR(got, b64);
	}
}

static void test_signed_target_and_body(void)
{
	char *target;
	char *body;
	size_t len;
	const char plain[] = "{\"msg_type\":\"text\"}";

	target = robot_signed_target(ROBOT_DINGTALK, "/robot/send?access_token=T", SECRET, T0);
	CHECK_STR(target, "/robot/send?access_token=T&timestamp=1795485600000&sign="
	                  "EGt%2BPbPWAQdsxg1vGggDbIu%2FHfye9goVgzTep4Q5kYo%3D");
	free(target);
	target = robot_signed_target(ROBOT_DINGTALK, "/robot/send", "", T0); /* no secret */
	CHECK_STR(target, "/robot/send");
	free(target);
	target = robot_signed_target(ROBOT_FEISHU, "/open-apis/bot/v2/hook/X", SECRET, T0);
	CHECK_STR(target, "/open-apis/bot/v2/hook/X");
	free(target);

	len = strlen(plain);
	body = robot_signed_body(ROBOT_FEISHU, plain, &len, SECRET, T0 + 999);
	CHECK_STR_N(
	    body, len,
	    "{\"timestamp\":\"1795485600\",\"sign\":\"HoA74TzMc6A+R07yQXFop9clrg36TskTT3quaPWT"
	    "7TA=\",\"msg_type\":\"text\"}");
	free(body);
	len = strlen(plain);
	body = robot_signed_body(ROBOT_DINGTALK, plain, &len, SECRET, T0);
	CHECK_STR_N(body, len, plain);
	free(body);
}

/* ---- bodies and mentions ----------------------------------------------------------------- */

static void test_bodies_per_platform_with_mentions(void)
{
	struct robot_mention mobile = {"alice", "13800138000", 1}, user = {"alice", "ou_abc", 0};
	char out[4096];

	robot_body(ROBOT_DINGTALK, "告警", &mobile, NULL, out, sizeof(out));
	CHECK_STR(out, "{\"msgtype\":\"text\",\"text\":{\"content\":\"告警 @13800138000\"},\"at\":{"
	               "\"atMobiles\":[\"13800138000\"],\"isAtAll\":false}}");
	robot_body(ROBOT_DINGTALK, "告警", &user, NULL, out, sizeof(out));
	CHECK_STR(out, "{\"msgtype\":\"text\",\"text\":{\"content\":\"告警 @ou_abc\"},\"at\":{"
	               "\"atUserIds\":[\"ou_abc\"],\"isAtAll\":false}}");
	robot_body(ROBOT_DINGTALK, "恢复", NULL, NULL, out, sizeof(out));
	CHECK_STR(out, "{\"msgtype\":\"text\",\"text\":{\"content\":\"恢复\"},\"at\":{\"isAtAll\":"
	               "false}}");
	robot_body(ROBOT_WECOM, "告警", &mobile, NULL, out, sizeof(out));
	CHECK_STR(out,
	          "{\"msgtype\":\"text\",\"text\":{\"content\":\"告警\",\"mentioned_mobile_list\":"
	          "[\"13800138000\"]}}");
	robot_body(ROBOT_WECOM, "告警", &user, NULL, out, sizeof(out));
	CHECK_STR(out, "{\"msgtype\":\"text\",\"text\":{\"content\":\"告警\",\"mentioned_list\":["
	               "\"ou_abc\"]}}");
	robot_body(ROBOT_FEISHU, "告警", &user, NULL, out, sizeof(out));
	CHECK_STR(out,
	          "{\"msg_type\":\"text\",\"content\":{\"text\":\"告警 <at user_id=\\\"ou_abc\\\">"
	          "alice</at>\"}}");
	robot_body(ROBOT_FEISHU, "告警", &mobile, NULL, out, sizeof(out)); /* no @ by mobile */
	CHECK_STR(out, "{\"msg_type\":\"text\",\"content\":{\"text\":\"告警\"}}");
	robot_body(ROBOT_GENERIC, "a\"b", &mobile, "{\"type\":\"raised\"}", out, sizeof(out));
	CHECK_STR(out,
	          "{\"msgtype\":\"text\",\"text\":{\"content\":\"a\\\"b\"},\"alert\":{\"type\":"
	          "\"raised\"}}");
	CHECK(scoreboard_json_valid(out, strlen(out)));
	/* too small: cut, NUL-terminated, never overrun */
	for (size_t size = 0; size < 300; size += 7) {
		char *small = malloc(size ? size : 1);
		size_t len =
		    robot_body(ROBOT_DINGTALK, "告警告警告警告警", &mobile, NULL, small, size);
		CHECK(size == 0 || len < size);
		free(small);
	}
}

static char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_mentions_file_format(void)
{
	char err[256] = "";
	struct robot_mentions *m = robot_mentions_load(
	    write_file("m.tsv", "# agent\tid\n\n售前小美\t13800138000\r\nbob\tou_7d8a6e\n"
	                        "carol\t+8613900139000\ndave\tdave.li@corp\n"),
	    err, sizeof(err));
	int mobile = -1;

	CHECK(m != NULL);
	CHECK_STR(err, "");
	CHECK_STR(robot_mentions_find(m, "售前小美", &mobile), "13800138000");
	CHECK_INT(mobile, 1);
	CHECK_STR(robot_mentions_find(m, "bob", &mobile), "ou_7d8a6e");
	CHECK_INT(mobile, 0);
	CHECK_STR(robot_mentions_find(m, "carol", &mobile), "+8613900139000");
	CHECK_INT(mobile, 1);
	CHECK_STR(robot_mentions_find(m, "dave", &mobile), "dave.li@corp");
	CHECK_INT(mobile, 0);
	CHECK(robot_mentions_find(m, "eve", &mobile) == NULL);
	CHECK(robot_mentions_find(NULL, "bob", &mobile) == NULL);
	robot_mentions_free(m);
}

static void check_mentions_error(const char *text, const char *want_suffix)
{
	char err[256] = "", want[256];
	const char *path = write_file("bad.tsv", text);

	snprintf(want, sizeof(want), "%s:%s", path, want_suffix);
	CHECK(robot_mentions_load(path, err, sizeof(err)) == NULL);
	CHECK_STR(err, want);
}

static void test_mentions_file_errors_name_the_line(void)
{
	check_mentions_error("alice 138\n", "1: expected AGENT<TAB>ID");
	check_mentions_error("# c\nalice\t\n",
	                     "2: the ID must be 1 to 64 of A-Z a-z 0-9 _ . @ + -");
	check_mentions_error("alice\t138 0013\n",
	                     "1: the ID must be 1 to 64 of A-Z a-z 0-9 _ . @ + -");
	check_mentions_error("\t138\n", "1: the agent's name is empty or too long");
	check_mentions_error("a\t1\na\t2\n", "2: the agent is already mapped on an earlier line");
}

static void test_secret_file(void)
{
	char secret[ROBOT_SECRET_BYTES], err[256] = "", want[256];
	const char *path = write_file("secret", SECRET "\n");

	chmod(path, 0600);
	CHECK_INT(robot_read_secret(path, secret, err, sizeof(err)), 0);
	CHECK_STR(secret, SECRET);
	path = write_file("empty", "\n");
	CHECK_INT(robot_read_secret(path, secret, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: secret file's first line is empty", path);
	CHECK_STR(err, want);
	CHECK_INT(robot_read_secret("/nonexistent/s", secret, err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/s: cannot open secret file: No such file or directory");
}

/* ---- digest, answers, kinds -------------------------------------------------------------- */

static void test_digest_counts_per_agent_and_type(void)
{
	struct names *names = names_new();
	struct robot_digest *d = robot_digest_new();
	struct alert_event raised = event(names, ALERT_RAISED, ALERT_FRT, 9000, 6000, 3);
	struct alert_event waiting = event(names, ALERT_WAITING, ALERT_FRT, 7000, 6000, 1);
	struct alert_event expired = event(names, ALERT_CLEARED, ALERT_EXPIRED, 0, 10000, 0);
	char out[4096];

	robot_digest_add(d, &waiting, names);
	robot_digest_add(d, &waiting, names);
	robot_digest_add(d, &raised, names);
	waiting.agent = names_intern(names, "bob", 3);
	robot_digest_add(d, &waiting, names);
	robot_digest_add(d, &expired, names);
	CHECK_INT(robot_digest_count(d), 5);
	robot_digest_text(d, ROBOT_ZH, 18, out, sizeof(out));
	CHECK_STR(out, "【chatlogd】限流汇总：机器人每分钟最多发 18 条，另有 5 条提醒未单独发送：\n"
	               "店铺 s1 客服 alice：告警 1，买家等待 2，告警失效 1\n"
	               "店铺 s1 客服 bob：买家等待 1");
	robot_digest_text(d, ROBOT_EN, 18, out, sizeof(out));
	CHECK_STR(out,
	          "【chatlogd】digest: the robot takes at most 18 messages a minute; 5 more alerts "
	          "were not sent one by one:\nshop s1, agent alice: raised 1, waiting 2, expired "
	          "1\nshop s1, agent bob: waiting 1");
	robot_digest_clear(d);
	CHECK_INT(robot_digest_count(d), 0);
	/* more agents than lines: the rest summed */
	for (int i = 0; i < 14; i++) {
		char name[16];
		snprintf(name, sizeof(name), "a%02d", i);
		waiting.agent = names_intern(names, name, strlen(name));
		robot_digest_add(d, &waiting, names);
	}
	robot_digest_text(d, ROBOT_ZH, 18, out, sizeof(out));
	CHECK(strstr(out, "客服 a09：") != NULL);
	CHECK(strstr(out, "客服 a10") == NULL);
	CHECK(strstr(out, "\n……其他客服另有 4 条") != NULL);
	robot_digest_free(d);
	names_free(names);
}

static void test_answers_and_rate_limit_codes(void)
{
	char msg[200];

	CHECK_INT(robot_answer_code(ROBOT_DINGTALK, "{\"errcode\":0,\"errmsg\":\"ok\"}", msg,
	                            sizeof(msg)),
	          0);
	CHECK_INT(robot_answer_code(ROBOT_DINGTALK,
	                            "{\"errcode\":130101,\"errmsg\":\"send too fast\"}", msg,
	                            sizeof(msg)),
	          130101);
	CHECK_STR(msg, "send too fast");
	CHECK(robot_code_rate_limited(ROBOT_DINGTALK, 130101));
	CHECK(robot_code_rate_limited(ROBOT_WECOM, 45009));
	CHECK(!robot_code_rate_limited(ROBOT_WECOM, 130101));
	CHECK_INT(robot_answer_code(ROBOT_FEISHU, "{\"code\":9499,\"msg\":\"too many request\"}",
	                            msg, sizeof(msg)),
	          9499);
	CHECK_STR(msg, "too many request");
	CHECK(robot_code_rate_limited(ROBOT_FEISHU, 9499));
	CHECK(robot_code_rate_limited(ROBOT_FEISHU, 11232));
	CHECK(!robot_code_rate_limited(ROBOT_FEISHU, 19021)); /* bad signature */
	CHECK_INT(robot_answer_code(ROBOT_FEISHU, "{\"code\":0,\"data\":{},\"msg\":\"success\"}",
	                            msg, sizeof(msg)),
	          0);
	CHECK_INT(robot_answer_code(ROBOT_GENERIC, "ok", msg, sizeof(msg)), 0);
}

static void test_kinds_by_name_and_host(void)
{
	enum robot_kind kind;
	enum robot_language language;
	int64_t per_minute, per_second;

	CHECK_INT(robot_kind_for_host("oapi.dingtalk.com"), ROBOT_DINGTALK);
	CHECK_INT(robot_kind_for_host("qyapi.weixin.qq.com"), ROBOT_WECOM);
	CHECK_INT(robot_kind_for_host("open.feishu.cn"), ROBOT_FEISHU);
	CHECK_INT(robot_kind_for_host("open.larksuite.com"), ROBOT_FEISHU);
	CHECK_INT(robot_kind_for_host("127.0.0.1"), ROBOT_GENERIC);
	CHECK_INT(robot_kind_parse("lark", &kind), 0);
	CHECK_INT(kind, ROBOT_FEISHU);
	CHECK_INT(robot_kind_parse("slack", &kind), -1);
	CHECK_INT(robot_language_parse("en", &language), 0);
	CHECK_INT(language, ROBOT_EN);
	robot_default_limits(ROBOT_DINGTALK, &per_minute, &per_second);
	CHECK(per_minute == 18 && per_second == 0);
	robot_default_limits(ROBOT_FEISHU, &per_minute, &per_second);
	CHECK(per_minute == 90 && per_second == 4);
	robot_default_limits(ROBOT_GENERIC, &per_minute, &per_second);
	CHECK(per_minute == 0 && per_second == 0);
}

int main(void)
{
	char cleanup[128];

	timefmt_set_timezone("Asia/Shanghai");
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_robot_XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		return 1;
	RUN(test_texts_in_chinese_for_every_case);
	RUN(test_warning_texts_and_json);
	RUN(test_texts_in_english_for_every_case);
	RUN(test_numbers_and_signs_match_the_json);
	RUN(test_dingtalk_signature_matches_the_reference);
	RUN(test_feishu_signature_matches_the_reference);
	RUN(test_signatures_match_openssl_hmac_for_many_timestamps);
	RUN(test_signed_target_and_body);
	RUN(test_bodies_per_platform_with_mentions);
	RUN(test_mentions_file_format);
	RUN(test_mentions_file_errors_name_the_line);
	RUN(test_secret_file);
	RUN(test_digest_counts_per_agent_and_type);
	RUN(test_answers_and_rate_limit_codes);
	RUN(test_kinds_by_name_and_host);
	snprintf(cleanup, sizeof(cleanup), "rm -rf %s", tmp_dir);
	if (system(cleanup) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_dir);
	return check_done();
}
