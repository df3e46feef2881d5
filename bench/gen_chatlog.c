/*
 * gen_chatlog: a fast, seeded generator of realistic customer-service chat logs in the
 * JSON Lines format of SPEC §2, for the benchmarks and for eyeballing the engine.
 * It simulates many concurrent conversations on one event-time clock; it does not try
 * to be a statistical model of any real shop, only to exercise every path of the engine.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Output is built in one buffer and written in large blocks; a line never exceeds
 * LINE_MAX_BYTES except the deliberately overlong noise lines, which are written alone. */
#define OUT_BUFFER_BYTES (1 << 20)
#define LINE_MAX_BYTES 4096
#define OVERLONG_TEXT_BYTES 70000 /* past chatlogd's default max_line_bytes of 65536 */
#define EVENTS_MAX 48             /* per conversation script */
#define NAME_BYTES 96

/* 2026-11-24T09:00:00+08:00: a Tuesday morning, shops just opened. */
#define DEFAULT_START_MS 1795482000000LL

struct options {
	uint64_t seed;
	uint64_t lines;
	unsigned shops;
	unsigned agents_per_shop;
	unsigned sessions; /* conversations in flight at once */
	uint64_t concurrent_inquiries;
	double noise_rate;
	int64_t start_ms;
	const char *output;
	int valid_utf8_only; /* no invalid-UTF-8 noise: mtail stops reading at such a byte */
	int quiet;
};

struct rng {
	uint64_t state;
};

/* splitmix64: fast, tiny, and good enough for choosing phrases and delays. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift, no division). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability permille / 1000. */
static int rng_chance(struct rng *r, unsigned permille)
{
	return rng_below(r, 1000) < permille;
}

/* ---- phrase tables: already JSON-escaped, so they are copied as they are ---- */

static const char *const brand_names[] = {
    "优衣库",   "李宁",     "安踏",   "小米",     "华为",   "三只松鼠",  "百草味",   "良品铺子",
    "完美日记", "花西子",   "波司登", "森马",     "太平鸟", "海澜之家",  "南极人",   "恒源祥",
    "美的",     "格力",     "九阳",   "苏泊尔",   "欧莱雅", "兰蔻",      "雅诗兰黛", "自然堂",
    "蕉内",     "回力",     "飞跃",   "骆驼",     "北面",   "迪卡侬",    "罗莱家纺", "水星家纺",
    "全棉时代", "babycare", "好孩子", "巴拉巴拉", "ONLY",   "VERO MODA", "Ubras",    "内外",
};
static const char *const shop_suffixes[] = {
    "官方旗舰店", "旗舰店", "京东自营旗舰店", "专卖店", "官方outlets店", "母婴旗舰店",
};
static const char *const agent_roles[] = {"售前", "售后", "客服", ""};
static const char *const agent_nicks[] = {
    "小美", "阿紫", "可乐", "七七", "橙子", "小鹿", "糖糖", "木木", "晴天", "小雨", "豆豆", "安安",
    "果果", "乐乐", "小白", "阿杰", "大伟", "小林", "芒果", "布丁", "奶茶", "西瓜", "团子", "小夏",
};
static const char *const nick_words[] = {
    "快乐的小猪", "爱吃鱼的猫", "追风少年", "momo酱",   "小仙女", "奶茶不加糖", "路人甲",
    "吃货一枚",   "晚安月亮",   "海边的风", "熬夜冠军", "柠檬精", "锦鲤本鲤",   "早睡早起",
};

static const char *const greetings[] = {
    "在吗", "在吗？", "你好", "您好，在吗", "亲，在吗？", "hello", "有人吗", "在不在",
};
static const char *const greeting_answers[] = {
    "亲，在的哦，请问有什么可以帮您？",
    "您好，欢迎光临，我是客服，很高兴为您服务~",
    "在的亲，请问有什么需要帮助的吗😊",
    "亲爱的，在的呢，您看中哪款了？",
};

/* A buyer question and the agent's answer to it. Several carry the words the shipped
 * lost-reason patterns look for (缺货, 发货, 快递, 便宜/贵, 正品, 尺码). */
struct qa {
	const char *question;
	const char *answer;
};
static const struct qa qa_pairs[] = {
    {"这款有现货吗", "有现货的亲，今天下单今天发"},
    {"这款有现货吗？M码的", "亲，M码目前缺货了，预计下周三到货哦"},
    {"这个颜色还有货吗", "亲，这个颜色暂时缺货了呢，可以看看其他颜色哦"},
    {"什么时候发货", "亲，付款后48小时内发货哦"},
    {"今天下单今天能发货吗？", "亲，下午四点前付款当天发货的哦"},
    {"发什么快递", "亲，默认发中通快递，需要顺丰可以补差价哦"},
    {"能发顺丰吗", "可以的亲，顺丰需要补12元运费差价"},
    {"快递几天能到上海", "亲，江浙沪一般1-2天就能到哦"},
    {"能便宜点吗", "亲，已经是活动最低价了哦，现在下单还送运费险"},
    {"太贵了，能再便宜点吗？别家才49", "亲，我们是官方正品，品质有保障的哦"},
    {"有优惠券吗", "亲，店铺首页可以领满199减20的券哦"},
    {"是正品吗", "亲，官方旗舰店保证正品，假一赔十"},
    {"会不会起球啊", "亲，这款面料是精梳棉，正常穿着不会起球的"},
    {"尺码怎么选", "亲，身高体重发一下，帮您推荐尺码哦"},
    {"我身高165体重110斤穿什么码", "亲，建议您选M码哦，偏宽松一点可以选L"},
    {"偏大还是偏小？", "亲，尺码是标准的，按平时穿的选就可以"},
    {"可以开发票吗", "可以的亲，下单时备注抬头和税号就行"},
    {"支持七天无理由退换吗", "支持的亲，不影响二次销售就可以退换"},
    {"退货运费谁出", "亲，有运费险的话退货运费是保险公司出的哦"},
    {"这个和那款有什么区别", "亲，这款是升级版，面料更厚一些，更保暖"},
    {"洗了会缩水吗", "亲，建议冷水手洗，基本不会缩水的"},
    {"能不能送个小礼品", "亲，现在下单送袜子一双哦~"},
    {"双十一还会降价吗", "亲，现在就是活动价哦，保价30天"},
    {"我昨天买的怎么还没发货", "亲，帮您催一下仓库，今天一定给您发出"},
    {"物流一直不更新", "亲，帮您联系快递核实一下，稍等哦"},
    {"收到的有点色差", "亲，不同显示器会有一点色差，介意的话可以退换哦"},
    {"这个\\\"限时价\\\"到什么时候", "亲，限时价到今晚24点结束哦"},
    {"\\u4f60好，这个适合送人吗", "很适合的亲，可以帮您备注礼品包装"},
    {"链接发我一下", "亲，链接发您了\\n请查收哦"},
    {"能和上次的一起发吗？订单号\\t见截图", "亲，可以的，帮您备注合并发货"},
    {"电池容量多大", "亲，5000mAh的，正常使用一天没问题"},
    {"保修多久", "亲，全国联保一年，七天无理由退货"},
    {"适合油皮吗", "亲，这款清爽型的，油皮也可以用哦"},
    {"宝宝几个月能穿", "亲，建议按身高选，73码适合6-9个月的宝宝"},
    {"有赠品吗😊", "亲，下单就送试用装三件套哦"},
    {"运费多少", "亲，全国包邮的哦（偏远地区除外）"},
};
static const char *const followups[] = {
    "亲，还有其他问题吗？",           "亲，喜欢的话可以放心拍下哦~", "亲，这边帮您备注好了",
    "亲，有问题随时联系我哦",         "亲，链接发您了\\n请查收",     "好的亲，稍等帮您查一下",
    "亲，已经帮您催了，请耐心等待哦",
};
static const char *const buyer_followups[] = {
    "好的",           "谢谢", "嗯嗯",       "那我再看看", "知道了", "好的，我拍了",   "行吧",
    "那算了，太贵了", "ok",   "好的谢谢亲", "我考虑一下", "不用了", "那我等到货再买",
};
static const char *const bot_texts[] = {
    "您好，欢迎光临本店，客服小二马上为您服务~",
    "【自动回复】亲，当前咨询人数较多，请耐心等待，我们会尽快回复您",
    "亲，您可以先看看我们的爆款推荐哦：新品上市，限时八折！",
    "【机器人】亲，发货时间：付款后48小时内；默认快递：中通",
    "亲，现在是非工作时间，客服上线后第一时间回复您",
};

static const char *const unit_prices[] = {
    "9.90",   "19.90",  "29.00",  "39.90",  "59.90",  "69.00",  "89.00",   "99.00",
    "128.00", "159.00", "199.00", "299.00", "399.00", "599.00", "1299.00",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- shops and agents ---- */

struct name {
	char text[NAME_BYTES];
	unsigned len;
};

struct shop {
	struct name name;
	struct name *agents;
	unsigned agent_count;
	int bot_enabled;
};

static void name_set(struct name *n, const char *text)
{
	size_t len = strlen(text);

	if (len >= NAME_BYTES)
		len = NAME_BYTES - 1;
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->len = (unsigned)len;
}

/* Shop i gets a brand and a suffix; past the table's combinations a number keeps names
 * unique. Agents are Taobao-style sub-accounts, "SHOP:ROLE NICK". */
static struct shop *shops_create(unsigned count, unsigned agents_per_shop, struct rng *r)
{
	struct shop *shops;
	char buf[NAME_BYTES * 2];
	unsigned i, j, combos = COUNT(brand_names) * COUNT(shop_suffixes);

	if ((shops = calloc(count, sizeof(*shops))) == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		struct shop *s = &shops[i];
		const char *brand = brand_names[i % COUNT(brand_names)];
		const char *suffix = shop_suffixes[(i / COUNT(brand_names)) % COUNT(shop_suffixes)];

		if (i < combos)
			snprintf(buf, sizeof(buf), "%s%s", brand, suffix);
		else
			snprintf(buf, sizeof(buf), "%s%s%u店", brand, suffix, i / combos + 1);
		name_set(&s->name, buf);
		s->bot_enabled = rng_chance(r, 400);
		s->agent_count = agents_per_shop;
		if ((s->agents = calloc(agents_per_shop, sizeof(*s->agents))) == NULL)
			return NULL;
		for (j = 0; j < agents_per_shop; j++) {
			const char *role = agent_roles[rng_below(r, COUNT(agent_roles))];
			const char *nick = agent_nicks[j % COUNT(agent_nicks)];

			if (j < COUNT(agent_nicks))
				snprintf(buf, sizeof(buf), "%s:%s%s", s->name.text, role, nick);
			else
				snprintf(buf, sizeof(buf), "%s:%s%s%u", s->name.text, role, nick,
				         j / (unsigned)COUNT(agent_nicks) + 1);
			name_set(&s->agents[j], buf);
		}
	}
	return shops;
}

static void shops_free(struct shop *shops, unsigned count)
{
	unsigned i;

	if (shops == NULL)
		return;
	for (i = 0; i < count; i++)
		free(shops[i].agents);
	free(shops);
}

/* ---- output buffer ---- */

struct out {
	FILE *file;
	char *buf;
	size_t len;
	int failed;
};

static void out_flush(struct out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, o->file) != o->len)
		o->failed = 1;
	o->len = 0;
}

/* Makes room for `need` more bytes. */
static void out_reserve(struct out *o, size_t need)
{
	if (o->len + need > OUT_BUFFER_BYTES)
		out_flush(o);
}

static void out_mem(struct out *o, const char *p, size_t n)
{
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_char(struct out *o, char c)
{
	o->buf[o->len++] = c;
}

static void out_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		out_char(o, tmp[--n]);
}

/* Writes v zero-padded to `width` digits. */
static void out_padded(struct out *o, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		o->buf[o->len + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	o->len += (size_t)width;
}

/* ---- timestamps ---- */

/* Howard Hinnant's civil_from_days: proleptic Gregorian date of a day number. */
static void civil_from_days(int64_t z, int *year, unsigned *month, unsigned *day)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (*month <= 2));
}

/* Writes v as exactly `width` decimal digits, zero-padded. */
static void put_digits(char *p, unsigned v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DDTHH:MM:SS" of a second shifted by offset_s, cached because consecutive
 * records mostly share their second. */
struct ts_cache {
	int64_t second;
	char text[20];
};

static const char *ts_cache_get(struct ts_cache *c, int64_t second, int64_t offset_s)
{
	int64_t local = second + offset_s, days, rem;
	int year;
	unsigned month, day;

	if (c->second == second)
		return c->text;
	days = local / 86400;
	rem = local % 86400;
	civil_from_days(days, &year, &month, &day);
	put_digits(c->text, (unsigned)year, 4);
	c->text[4] = '-';
	put_digits(c->text + 5, month, 2);
	c->text[7] = '-';
	put_digits(c->text + 8, day, 2);
	c->text[10] = 'T';
	put_digits(c->text + 11, (unsigned)(rem / 3600), 2);
	c->text[13] = ':';
	put_digits(c->text + 14, (unsigned)(rem / 60 % 60), 2);
	c->text[16] = ':';
	put_digits(c->text + 17, (unsigned)(rem % 60), 2);
	c->text[19] = '\0';
	c->second = second;
	return c->text;
}

struct clock_format {
	struct ts_cache beijing;
	struct ts_cache utc;
	int64_t last_ms; /* as the last line's ts reads, after any truncation */
};

/* Writes `{"ts":VALUE,` in one of the forms SPEC §2 allows, mostly RFC 3339 in Beijing
 * time with milliseconds; some epoch numbers, some UTC, a space for the T, some whole
 * seconds. Whole seconds are used only where they cannot read as earlier than the
 * previous line, so event time never goes backwards. */
static void out_ts(struct out *o, struct clock_format *cf, struct rng *r, int64_t ms)
{
	enum { EPOCH_MS, EPOCH_WHOLE, UTC_MS, SPACE_MS, BEIJING_WHOLE, BEIJING_MS } form;
	unsigned pick = rng_below(r, 1000);
	int64_t second = ms / 1000;
	unsigned frac = (unsigned)(ms % 1000);

	if (pick < 35)
		form = EPOCH_MS;
	else if (pick < 50)
		form = EPOCH_WHOLE;
	else if (pick < 80)
		form = UTC_MS;
	else if (pick < 100)
		form = SPACE_MS;
	else if (pick < 120)
		form = BEIJING_WHOLE;
	else
		form = BEIJING_MS;
	if (form == EPOCH_WHOLE || form == BEIJING_WHOLE) {
		if (second * 1000 < cf->last_ms)
			form = form == EPOCH_WHOLE ? EPOCH_MS : BEIJING_MS;
		else
			ms = second * 1000;
	}
	cf->last_ms = ms;
	out_str(o, "{\"ts\":");
	switch (form) {
	case EPOCH_MS:
	case EPOCH_WHOLE:
		out_u64(o, (uint64_t)second);
		if (form == EPOCH_MS) {
			out_char(o, '.');
			out_padded(o, frac, 3);
		}
		out_char(o, ',');
		return;
	case UTC_MS:
		out_char(o, '"');
		out_mem(o, ts_cache_get(&cf->utc, second, 0), 19);
		out_char(o, '.');
		out_padded(o, frac, 3);
		out_str(o, "Z\",");
		return;
	default:
		out_char(o, '"');
		out_mem(o, ts_cache_get(&cf->beijing, second, 8 * 3600), 19);
		if (form == SPACE_MS) /* as some exporters write it */
			o->buf[o->len - 9] = ' ';
		if (form == BEIJING_WHOLE) {
			out_str(o, "+08:00\",");
			return;
		}
		out_char(o, '.');
		out_padded(o, frac, 3);
		out_str(o, "+08:00\",");
	}
}

/* ---- buyers ---- */

/* A bijection on 32-bit values, so distinct buyer numbers give distinct names. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* Buyer number n as a platform nick: "tb" + 10 digits (Taobao), a Chinese nick with a
 * number (Tmall), or "jd_" + 8 hex digits (JD). Distinct n give distinct names. */
static void out_buyer_name(struct out *o, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t m = mix32(n);
	int i;

	switch (n % 10) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		out_str(o, "tb");
		out_padded(o, m, 10);
		break;
	case 6:
	case 7:
		out_str(o, nick_words[m % COUNT(nick_words)]);
		out_u64(o, n);
		break;
	default:
		out_str(o, "jd_");
		for (i = 28; i >= 0; i -= 4)
			out_char(o, hex[(m >> i) & 15]);
		break;
	}
}

/* ---- conversations ---- */

enum event_type { EV_BUYER, EV_AGENT, EV_BOT, EV_ORDER, EV_PAY };
enum text_kind {
	TEXT_GREETING,
	TEXT_GREETING_ANSWER,
	TEXT_QUESTION,
	TEXT_ANSWER,
	TEXT_FOLLOWUP,
	TEXT_BUYER_FOLLOWUP,
	TEXT_BOT,
};

struct event {
	uint32_t at_ms;    /* since the conversation started */
	uint8_t type;      /* enum event_type */
	uint8_t text_kind; /* enum text_kind */
	uint8_t text;      /* index in that table */
	uint8_t who;       /* agent slot: 0 routed agent, 1 answering agent, 2 none */
};

struct conversation {
	int64_t start_ms;
	uint32_t shop;
	uint32_t buyer;
	uint16_t agent[2]; /* routed to, answered by (differ on a transfer) */
	uint8_t count, next;
	uint8_t orders;
	uint64_t order_id[2];
	uint64_t amount_fen[2];
	struct event events[EVENTS_MAX];
};

struct generator {
	struct options opt;
	struct rng rng;
	struct shop *shops;
	struct conversation *convs;
	uint32_t *heap; /* conversation indices, ordered by their next event time */
	uint32_t heap_len;
	uint32_t next_buyer;
	uint64_t next_order;
	struct clock_format clock;
	struct out out;
	int64_t now_ms;
	/* statistics, printed at the end */
	uint64_t lines, valid, invalid, blank, msgs[3], orders, pays, conversations;
	uint64_t noise[10];
};

static int64_t conv_next_ms(const struct generator *g, uint32_t i)
{
	const struct conversation *c = &g->convs[i];

	return c->start_ms + c->events[c->next].at_ms;
}

static void heap_push(struct generator *g, uint32_t ci)
{
	uint32_t pos = g->heap_len++;
	int64_t t = conv_next_ms(g, ci);

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;

		if (conv_next_ms(g, g->heap[parent]) <= t)
			break;
		g->heap[pos] = g->heap[parent];
		pos = parent;
	}
	g->heap[pos] = ci;
}

/* Restores the heap after the root's key grew (or the root was replaced). */
static void heap_sift_down(struct generator *g)
{
	uint32_t pos = 0, ci = g->heap[0];
	int64_t t = conv_next_ms(g, ci);

	for (;;) {
		uint32_t child = 2 * pos + 1;

		if (child >= g->heap_len)
			break;
		if (child + 1 < g->heap_len &&
		    conv_next_ms(g, g->heap[child + 1]) < conv_next_ms(g, g->heap[child]))
			child++;
		if (t <= conv_next_ms(g, g->heap[child]))
			break;
		g->heap[pos] = g->heap[child];
		pos = child;
	}
	g->heap[pos] = ci;
}

static void conv_add(struct conversation *c, int64_t at_ms, enum event_type type,
                     enum text_kind kind, unsigned text, unsigned who)
{
	struct event *e;

	if (c->count >= EVENTS_MAX)
		return;
	e = &c->events[c->count++];
	e->at_ms = (uint32_t)at_ms;
	e->type = (uint8_t)type;
	e->text_kind = (uint8_t)kind;
	e->text = (uint8_t)text;
	e->who = (uint8_t)who;
}

/* How long an agent takes to answer a turn: mostly within the 6 s / 10 s targets,
 * a tail of slow answers that breach them. */
static int64_t response_delay_ms(struct rng *r)
{
	unsigned p = rng_below(r, 1000);

	if (p < 550)
		return rng_range(r, 1000, 6000);
	if (p < 820)
		return rng_range(r, 6001, 10000);
	if (p < 970)
		return rng_range(r, 10001, 30000);
	return rng_range(r, 30001, 180000);
}

/* Chat turns from time t: returns the time of the last message. */
static int64_t conv_script_chat(struct generator *g, struct conversation *c, int64_t t, int greet,
                                unsigned turns, int routed_field)
{
	struct rng *r = &g->rng;
	const struct shop *s = &g->shops[c->shop];
	unsigned turn, who_buyer = routed_field ? 0 : 2;

	for (turn = 0; turn < turns; turn++) {
		int64_t open = t, last_buyer = t, answer, last;
		unsigned qa = rng_below(r, COUNT(qa_pairs));
		int greeting_only = 0;

		if (turn == 0 && greet) {
			conv_add(c, t, EV_BUYER, TEXT_GREETING, rng_below(r, COUNT(greetings)),
			         who_buyer);
			greeting_only = rng_chance(r, 400);
			if (!greeting_only) {
				last_buyer = t + rng_range(r, 1500, 8000);
				conv_add(c, last_buyer, EV_BUYER, TEXT_QUESTION, qa, who_buyer);
			}
		} else {
			conv_add(c, t, EV_BUYER, TEXT_QUESTION, qa, who_buyer);
			if (rng_chance(r, 200)) {
				last_buyer = t + rng_range(r, 2000, 9000);
				conv_add(c, last_buyer, EV_BUYER, TEXT_BUYER_FOLLOWUP,
				         rng_below(r, COUNT(buyer_followups)), who_buyer);
			}
		}
		/* One random draw per statement throughout: the order in which a compiler
		 * evaluates arguments is unspecified, and the output must not depend on it. */
		if ((turn == 0 && s->bot_enabled) || rng_chance(r, 30)) {
			int64_t at = open + rng_range(r, 200, 3000);
			unsigned text = rng_below(r, COUNT(bot_texts));

			conv_add(c, at, EV_BOT, TEXT_BOT, text, 1);
		}
		if (rng_chance(r, 45)) /* nobody answers; the buyer gives up */
			return last_buyer;
		answer = open + response_delay_ms(r);
		if (answer < last_buyer + 300)
			answer = last_buyer + rng_range(r, 300, 2500);
		if (greeting_only)
			conv_add(c, answer, EV_AGENT, TEXT_GREETING_ANSWER,
			         rng_below(r, COUNT(greeting_answers)), 1);
		else
			conv_add(c, answer, EV_AGENT, TEXT_ANSWER, qa, 1);
		last = answer;
		if (rng_chance(r, 250)) {
			last = answer + rng_range(r, 2000, 12000);
			conv_add(c, last, EV_AGENT, TEXT_FOLLOWUP, rng_below(r, COUNT(followups)),
			         1);
		}
		t = last + rng_range(r, 4000, 90000); /* the buyer reads and types */
	}
	if (rng_chance(r, 500)) {
		conv_add(c, t, EV_BUYER, TEXT_BUYER_FOLLOWUP, rng_below(r, COUNT(buyer_followups)),
		         who_buyer);
		return t;
	}
	return t - 4000;
}

static uint64_t amount_fen(struct rng *r)
{
	const char *p = unit_prices[rng_below(r, COUNT(unit_prices))];
	uint64_t fen = 0;

	for (; *p; p++)
		if (*p != '.')
			fen = fen * 10 + (uint64_t)(*p - '0');
	return fen * (uint64_t)(rng_chance(r, 800) ? 1 : rng_range(r, 2, 3));
}

/* Sorts a script by time; stable, so same-time events keep their order. */
static void conv_sort(struct conversation *c)
{
	unsigned i, j;

	for (i = 1; i < c->count; i++) {
		struct event e = c->events[i];

		for (j = i; j > 0 && c->events[j - 1].at_ms > e.at_ms; j--)
			c->events[j] = c->events[j - 1];
		c->events[j] = e;
	}
}

/* Writes a fresh script for conversation slot ci starting at start_ms. */
static void conv_start(struct generator *g, uint32_t ci, int64_t start_ms)
{
	struct conversation *c = &g->convs[ci];
	struct rng *r = &g->rng;
	const struct shop *s;
	int64_t t;
	unsigned k, turns;
	int greet, routed;

	c->start_ms = start_ms;
	c->count = c->next = 0;
	c->orders = 0;
	c->shop = rng_below(r, g->opt.shops);
	s = &g->shops[c->shop];
	if (g->next_buyer > 5000 && rng_chance(r, 100)) /* a returning buyer */
		c->buyer = g->next_buyer - 1 -
		           rng_below(r, g->next_buyer - 1 < 100000 ? g->next_buyer - 1 : 100000);
	else
		c->buyer = g->next_buyer++;
	c->agent[0] = (uint16_t)rng_below(r, s->agent_count);
	c->agent[1] = c->agent[0];
	if (s->agent_count > 1 && rng_chance(r, 60)) /* transfer: another agent answers */
		c->agent[1] = (uint16_t)((c->agent[0] + 1 + rng_below(r, s->agent_count - 1)) %
		                         s->agent_count);
	g->conversations++;

	if (rng_chance(r, 25)) { /* silent order: pays without asking anything */
		c->orders = 1;
		c->order_id[0] = g->next_order++;
		c->amount_fen[0] = amount_fen(r);
		conv_add(c, 0, EV_ORDER, TEXT_BOT, 0, 2);
		if (rng_chance(r, 850))
			conv_add(c, rng_range(r, 5000, 300000), EV_PAY, TEXT_BOT, 0, 2);
		return;
	}
	greet = rng_chance(r, 550);
	turns = 1 + rng_below(r, 3);
	turns += (unsigned)rng_chance(r, 200);
	routed = rng_chance(r, 850);
	t = conv_script_chat(g, c, 0, greet, turns, routed);
	if (rng_chance(r, 70)) { /* idle past session_idle, then back: a new inquiry */
		t += rng_range(r, 11 * 60000, 45 * 60000);
		turns = 1 + rng_below(r, 2);
		routed = rng_chance(r, 850);
		t = conv_script_chat(g, c, t, 0, turns, routed);
	}
	if (rng_chance(r, 260)) {
		c->orders = rng_chance(r, 60) ? 2 : 1;
		for (k = 0; k < c->orders; k++) {
			c->order_id[k] = g->next_order++;
			c->amount_fen[k] = amount_fen(r);
			t += rng_range(r, 20000, k == 0 ? 20 * 60000 : 5 * 60000);
			conv_add(c, t, EV_ORDER, TEXT_BOT, k, 2);
			if (rng_chance(r, 800))
				conv_add(c, t + rng_range(r, 8000, 10 * 60000), EV_PAY, TEXT_BOT, k,
				         2);
		}
	} else if (rng_chance(r, 20)) { /* a payment with no order record seen */
		c->orders = 1;
		c->order_id[0] = g->next_order++;
		c->amount_fen[0] = amount_fen(r);
		conv_add(c, t + rng_range(r, 30000, 15 * 60000), EV_PAY, TEXT_BOT, 0, 2);
	}
	conv_sort(c);
}

static const char *event_text(const struct event *e)
{
	switch (e->text_kind) {
	case TEXT_GREETING:
		return greetings[e->text];
	case TEXT_GREETING_ANSWER:
		return greeting_answers[e->text];
	case TEXT_QUESTION:
		return qa_pairs[e->text].question;
	case TEXT_ANSWER:
		return qa_pairs[e->text].answer;
	case TEXT_FOLLOWUP:
		return followups[e->text];
	case TEXT_BUYER_FOLLOWUP:
		return buyer_followups[e->text];
	default:
		return bot_texts[e->text];
	}
}

static void out_field(struct out *o, const char *key, const char *value, size_t len)
{
	out_str(o, key);
	out_mem(o, value, len);
	out_char(o, '"');
}

static void out_msg_id(struct out *o, struct rng *r)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = rng_next(r);
	int i;

	out_str(o, ",\"msg_id\":\"");
	for (i = 60; i >= 0; i -= 4)
		out_char(o, hex[(v >> i) & 15]);
	out_char(o, '"');
}

static void out_amount(struct out *o, struct rng *r, uint64_t fen)
{
	unsigned p = rng_below(r, 100);

	out_str(o, ",\"amount\":");
	if (p < 75 || fen % 10 != 0) { /* "59.90" */
		out_char(o, '"');
		out_u64(o, fen / 100);
		out_char(o, '.');
		out_padded(o, fen % 100, 2);
		out_char(o, '"');
	} else if (fen % 100 == 0) { /* 128 */
		out_u64(o, fen / 100);
	} else { /* 59.9 */
		out_u64(o, fen / 100);
		out_char(o, '.');
		out_u64(o, fen / 10 % 10);
	}
}

/* Writes one valid record for the next event of conversation c at time ms. */
static void out_event(struct generator *g, const struct conversation *c, const struct event *e,
                      int64_t ms)
{
	struct out *o = &g->out;
	struct rng *r = &g->rng;
	const struct shop *s = &g->shops[c->shop];
	static const char *const from_field[] = {",\"from\":\"buyer\"", ",\"from\":\"agent\"",
	                                         ",\"from\":\"bot\""};
	const char *text;

	out_ts(o, &g->clock, r, ms);
	if (e->type == EV_ORDER || e->type == EV_PAY) {
		out_str(o, e->type == EV_ORDER ? "\"kind\":\"order\"," : "\"kind\":\"pay\",");
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"");
		out_buyer_name(o, c->buyer);
		out_str(o, "\",\"order\":\"");
		out_u64(o, 3100000000000000000ULL + c->order_id[e->text] * 7919);
		out_char(o, '"');
		if (e->text < c->orders)
			out_amount(o, r, c->amount_fen[e->text]);
		out_str(o, ",\"platform\":\"tmall\"}\n");
		if (e->type == EV_ORDER)
			g->orders++;
		else
			g->pays++;
		return;
	}
	if (rng_chance(r, 100))
		out_str(o, "\"kind\":\"msg\",");
	out_field(o, "\"shop\":\"", s->name.text, s->name.len);
	out_str(o, ",\"buyer\":\"");
	out_buyer_name(o, c->buyer);
	out_char(o, '"');
	if (e->who != 2) {
		const struct name *a = &s->agents[c->agent[e->who]];

		out_field(o, ",\"agent\":\"", a->text, a->len);
	}
	switch (e->type) {
	case EV_BUYER:
		out_str(o, from_field[0]);
		g->msgs[0]++;
		break;
	case EV_AGENT:
		out_str(o, from_field[1]);
		g->msgs[1]++;
		break;
	default:
		out_str(o, from_field[2]);
		g->msgs[2]++;
		break;
	}
	text = event_text(e);
	out_field(o, ",\"text\":\"", text, strlen(text));
	out_msg_id(o, r);
	out_str(o, "}\n");
}

/* ---- noise: lines a real export occasionally contains ---- */

enum noise {
	NOISE_TRUNCATED,
	NOISE_NO_BUYER,
	NOISE_NO_FROM,
	NOISE_BAD_TS,
	NOISE_GBK_TEXT,
	NOISE_BAD_UTF8,
	NOISE_WRONG_TYPE,
	NOISE_BAD_AMOUNT,
	NOISE_PLAIN_TEXT,
	NOISE_OVERLONG,
};
static const char *const noise_names[] = {
    "truncated", "no_buyer",   "no_from",    "bad_ts",     "gbk_text",
    "bad_utf8",  "wrong_type", "bad_amount", "plain_text", "overlong",
};

/* Writes one invalid line (or, rarely, a blank line, which is not an error). */
static void out_noise(struct generator *g)
{
	struct out *o = &g->out;
	struct rng *r = &g->rng;
	const struct shop *s = &g->shops[rng_below(r, g->opt.shops)];
	unsigned pick = rng_below(r, 1000);
	enum noise kind;
	size_t i;

	if (pick < 60) {
		out_char(o, '\n');
		g->blank++;
		return;
	}
	kind = (enum noise)(pick < 950 ? (pick - 60) / 99
	                               : (pick < 980 ? NOISE_PLAIN_TEXT : NOISE_OVERLONG));
	if (kind > NOISE_OVERLONG)
		kind = NOISE_PLAIN_TEXT;
	if (g->opt.valid_utf8_only && kind == NOISE_GBK_TEXT)
		kind = NOISE_WRONG_TYPE;
	else if (g->opt.valid_utf8_only && kind == NOISE_BAD_UTF8)
		kind = NOISE_BAD_TS;
	g->noise[kind]++;
	g->invalid++;
	switch (kind) {
	case NOISE_TRUNCATED: /* a writer died mid-line: cut before the closing brace */
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000001\",\"from\":\"buyer\",\"text\":\"这款有");
		o->len -= rng_below(r, 40);
		while ((o->buf[o->len] & 0xc0) == 0x80) /* cut between characters */
			o->len--;
		out_char(o, '\n');
		break;
	case NOISE_NO_BUYER:
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"from\":\"buyer\",\"text\":\"在吗\"}\n");
		break;
	case NOISE_NO_FROM:
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000002\",\"text\":\"什么时候发货\"}\n");
		break;
	case NOISE_BAD_TS:
		out_str(o, rng_chance(r, 500) ? "{\"ts\":\"2026-11-24 25:61:00\","
		                              : "{\"ts\":\"yesterday 10:00\",");
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000003\",\"from\":\"buyer\",\"text\":\"在吗\"}\n");
		break;
	case NOISE_GBK_TEXT: /* 你好 in GBK: an exporter with the wrong code page */
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000004\",\"from\":\"buyer\",\"text\":\""
		           "\xc4\xe3\xba\xc3\"}\n");
		break;
	case NOISE_BAD_UTF8: /* a multi-byte character cut in half, then a stray 0xff */
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000005\",\"from\":\"buyer\",\"text\":\"有现\xe8\xb4"
		           "\xff\"}\n");
		break;
	case NOISE_WRONG_TYPE:
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":12345,\"from\":\"buyer\",\"text\":\"在吗\"}\n");
		break;
	case NOISE_BAD_AMOUNT:
		out_ts(o, &g->clock, r, g->now_ms);
		out_str(o, "\"kind\":\"pay\",");
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, rng_chance(r, 500) ? ",\"buyer\":\"tb0000000006\",\"order\":\"1\","
		                                "\"amount\":\"-59.90\"}\n"
		                              : ",\"buyer\":\"tb0000000006\",\"order\":\"1\","
		                                "\"amount\":\"59.999\"}\n");
		break;
	case NOISE_PLAIN_TEXT:
		out_str(o, "2026-11-24 10:00:01,123 WARN exporter: session store reconnecting "
		           "(attempt 3)\n");
		break;
	case NOISE_OVERLONG:
		out_flush(o);
		out_ts(o, &g->clock, r, g->now_ms);
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"tb0000000007\",\"from\":\"buyer\",\"text\":\"");
		for (i = 0; i < OVERLONG_TEXT_BYTES / 3; i++)
			out_mem(o, "啊", 3);
		out_str(o, "\"}\n");
		break;
	}
}

/* ---- the two modes ---- */

/* Realistic mode: opt.sessions conversations in flight; each event popped in time order
 * becomes one line, and a finished conversation is replaced by a new one soon after. */
static int generate_chats(struct generator *g)
{
	uint32_t i, noise_per_million = (uint32_t)(g->opt.noise_rate * 1e6 + 0.5);

	if ((g->convs = calloc(g->opt.sessions, sizeof(*g->convs))) == NULL ||
	    (g->heap = calloc(g->opt.sessions, sizeof(*g->heap))) == NULL)
		return -1;
	/* Stagger the first conversations over ten minutes, as if the log started mid-day. */
	for (i = 0; i < g->opt.sessions; i++) {
		conv_start(g, i, g->opt.start_ms + rng_range(&g->rng, 0, 600000));
		heap_push(g, i);
	}
	while (g->lines < g->opt.lines && !g->out.failed) {
		uint32_t ci = g->heap[0];
		struct conversation *c = &g->convs[ci];
		const struct event *e = &c->events[c->next];

		out_reserve(&g->out, LINE_MAX_BYTES);
		g->lines++;
		if (noise_per_million > 0 && rng_below(&g->rng, 1000000) < noise_per_million) {
			out_noise(g);
			continue;
		}
		g->now_ms = c->start_ms + e->at_ms;
		out_event(g, c, e, g->now_ms);
		g->valid++;
		if (++c->next >= c->count)
			conv_start(g, ci, g->now_ms + rng_range(&g->rng, 1000, 90000));
		heap_sift_down(g);
	}
	return 0;
}

/* Memory-test mode: n distinct buyers each send one message within five minutes of
 * event time, nobody answers, so every inquiry is still open at end of input. */
static int generate_concurrent(struct generator *g)
{
	struct out *o = &g->out;
	struct rng *r = &g->rng;
	uint64_t i, n = g->opt.concurrent_inquiries;
	const int64_t span_ms = 300000;

	for (i = 0; i < n && !o->failed; i++) {
		const struct shop *s = &g->shops[i % g->opt.shops];
		const struct name *a = &s->agents[rng_below(r, s->agent_count)];
		const char *text = qa_pairs[rng_below(r, COUNT(qa_pairs))].question;
		int64_t ms = g->opt.start_ms + (int64_t)(i * (uint64_t)span_ms / n);

		out_reserve(o, LINE_MAX_BYTES);
		out_str(o, "{\"ts\":\"");
		out_mem(o, ts_cache_get(&g->clock.beijing, ms / 1000, 8 * 3600), 19);
		out_char(o, '.');
		out_padded(o, (uint64_t)(ms % 1000), 3);
		out_str(o, "+08:00\",");
		out_field(o, "\"shop\":\"", s->name.text, s->name.len);
		out_str(o, ",\"buyer\":\"");
		out_buyer_name(o, (uint32_t)i);
		out_char(o, '"');
		out_field(o, ",\"agent\":\"", a->text, a->len);
		out_str(o, ",\"from\":\"buyer\"");
		out_field(o, ",\"text\":\"", text, strlen(text));
		out_str(o, "}\n");
		g->lines++;
		g->valid++;
		g->msgs[0]++;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: gen_chatlog [--seed N] [--lines N] [--shops N] [--agents-per-shop N]\n"
	        "                   [--sessions N] [--noise-rate F] [--valid-utf8-only]\n"
	        "                   [--start-ms MS] [-o FILE]\n"
	        "       gen_chatlog --concurrent-inquiries N [--shops N] [--agents-per-shop N]\n"
	        "Writes a seeded chat log in chatlogd's JSON Lines format (SPEC §2) to stdout\n"
	        "or FILE and a summary (gen: lines=... valid=... invalid=...) to stderr.\n"
	        "  --seed N                  same seed and options, same bytes (default 1)\n"
	        "  --lines N                 lines to write (default 1000000)\n"
	        "  --shops N                 shops (default 40)\n"
	        "  --agents-per-shop N       agents per shop (default 8)\n"
	        "  --sessions N              conversations in flight (default 4 per agent)\n"
	        "  --noise-rate F            fraction of invalid/blank lines (default 0.002)\n"
	        "  --concurrent-inquiries N  memory test: N buyers each open one inquiry\n"
	        "                            within 5 minutes; nobody answers\n"
	        "  --valid-utf8-only         noise without invalid UTF-8 bytes (for peers that\n"
	        "                            stop at one, like mtail 3.0.0~rc50)\n"
	        "  --start-ms MS             event time of the first line (epoch ms)\n"
	        "  --quiet                   no summary on stderr\n");
	exit(2);
}

/* Parses an unsigned decimal option value or exits with usage. */
static uint64_t parse_count(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "gen_chatlog: bad --%s: %s\n", name, s);
		usage();
	}
	return v;
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	enum {
		OPT_SEED = 256,
		OPT_LINES,
		OPT_SHOPS,
		OPT_AGENTS,
		OPT_SESSIONS,
		OPT_CONCURRENT,
		OPT_NOISE,
		OPT_START,
		OPT_UTF8,
		OPT_QUIET
	};
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"lines", required_argument, NULL, OPT_LINES},
	    {"shops", required_argument, NULL, OPT_SHOPS},
	    {"agents-per-shop", required_argument, NULL, OPT_AGENTS},
	    {"sessions", required_argument, NULL, OPT_SESSIONS},
	    {"concurrent-inquiries", required_argument, NULL, OPT_CONCURRENT},
	    {"noise-rate", required_argument, NULL, OPT_NOISE},
	    {"start-ms", required_argument, NULL, OPT_START},
	    {"valid-utf8-only", no_argument, NULL, OPT_UTF8},
	    {"quiet", no_argument, NULL, OPT_QUIET},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	char *end;

	memset(opt, 0, sizeof(*opt));
	opt->seed = 1;
	opt->lines = 1000000;
	opt->shops = 40;
	opt->agents_per_shop = 8;
	opt->noise_rate = 0.002;
	opt->start_ms = DEFAULT_START_MS;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SEED:
			opt->seed = parse_count("seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_LINES:
			opt->lines = parse_count("lines", optarg, 0, UINT64_MAX);
			break;
		case OPT_SHOPS:
			opt->shops = (unsigned)parse_count("shops", optarg, 1, 1000000);
			break;
		case OPT_AGENTS:
			opt->agents_per_shop =
			    (unsigned)parse_count("agents-per-shop", optarg, 1, 60000);
			break;
		case OPT_SESSIONS:
			opt->sessions = (unsigned)parse_count("sessions", optarg, 1, 100000000);
			break;
		case OPT_CONCURRENT:
			opt->concurrent_inquiries =
			    parse_count("concurrent-inquiries", optarg, 1, UINT32_MAX);
			break;
		case OPT_NOISE:
			errno = 0;
			opt->noise_rate = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || !(opt->noise_rate >= 0.0) ||
			    opt->noise_rate > 1.0) {
				fprintf(stderr, "gen_chatlog: bad --noise-rate: %s\n", optarg);
				usage();
			}
			break;
		case OPT_START:
			opt->start_ms = (int64_t)parse_count("start-ms", optarg, 0, INT64_MAX / 2);
			break;
		case OPT_UTF8:
			opt->valid_utf8_only = 1;
			break;
		case OPT_QUIET:
			opt->quiet = 1;
			break;
		case 'o':
			opt->output = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt->sessions == 0) { /* an agent chats with about four buyers at once */
		uint64_t sessions = (uint64_t)opt->shops * opt->agents_per_shop * 4;

		opt->sessions = sessions > 1000000 ? 1000000 : (unsigned)sessions;
	}
}

int main(int argc, char **argv)
{
	struct generator g;
	int rc = 1;

	memset(&g, 0, sizeof(g));
	parse_options(argc, argv, &g.opt);
	g.rng.state = g.opt.seed;
	g.clock.beijing.second = g.clock.utc.second = -1;
	g.out.file = stdout;
	if (g.opt.output != NULL && (g.out.file = fopen(g.opt.output, "wb")) == NULL) {
		fprintf(stderr, "gen_chatlog: %s: %s\n", g.opt.output, strerror(errno));
		return 1;
	}
	if ((g.out.buf = malloc(OUT_BUFFER_BYTES)) == NULL ||
	    (g.shops = shops_create(g.opt.shops, g.opt.agents_per_shop, &g.rng)) == NULL) {
		fprintf(stderr, "gen_chatlog: out of memory\n");
		goto end;
	}
	if ((g.opt.concurrent_inquiries > 0 ? generate_concurrent(&g) : generate_chats(&g)) != 0) {
		fprintf(stderr, "gen_chatlog: out of memory\n");
		goto end;
	}
	out_flush(&g.out);
	if (fflush(g.out.file) != 0 || g.out.failed) {
		fprintf(stderr, "gen_chatlog: write failed: %s\n", strerror(errno));
		goto end;
	}
	if (!g.opt.quiet) {
		unsigned k;

		fprintf(stderr,
		        "gen: lines=%" PRIu64 " valid=%" PRIu64 " invalid=%" PRIu64
		        " blank=%" PRIu64 " buyer_msgs=%" PRIu64 " agent_msgs=%" PRIu64
		        " bot_msgs=%" PRIu64 " orders=%" PRIu64 " pays=%" PRIu64
		        " conversations=%" PRIu64,
		        g.lines, g.valid, g.invalid, g.blank, g.msgs[0], g.msgs[1], g.msgs[2],
		        g.orders, g.pays, g.conversations);
		for (k = 0; k < COUNT(noise_names); k++)
			fprintf(stderr, " noise_%s=%" PRIu64, noise_names[k], g.noise[k]);
		fputc('\n', stderr);
	}
	rc = 0;
end:
	if (g.out.file != stdout && g.out.file != NULL && fclose(g.out.file) != 0 && rc == 0) {
		fprintf(stderr, "gen_chatlog: close failed: %s\n", strerror(errno));
		rc = 1;
	}
	free(g.out.buf);
	free(g.convs);
	free(g.heap);
	shops_free(g.shops, g.opt.shops);
	return rc;
}
