# An invented one-line chat format: a test fixture of the line-regex parser
# (tests/test_parse_regex.c). It was shipped as patterns/formats/qianniu.re until
# issue 15 retired it: real Qianniu exports put a message on several lines and use
# other headers, so it could not read them. Those go through chatlogd-import
# (docs/import.md). One event per line:
#
#   2026-11-24 10:00:00 [旗舰店] 买家 tb_b1 -> 客服 小美: 在吗,这款有现货吗
#   2026-11-24 10:00:00 [旗舰店] 买家 tb_b1: 在吗                 (no agent assigned yet)
#   2026-11-24 10:00:04 [旗舰店] 客服 小美 -> 买家 tb_b1: 亲,在的哦
#   2026-11-24 10:00:01 [旗舰店] 机器人 -> 买家 tb_b1: 您好,欢迎光临
#   2026-11-24 10:03:00 [旗舰店] 下单 买家 tb_b1 订单 O1 金额 59.90
#   2026-11-24 10:05:00 [旗舰店] 付款 买家 tb_b1 订单 O1 金额 59.90
#
# Times are local wall-clock time in the daemon's `timezone` (e.g. Asia/Shanghai),
# optionally with a fraction of a second (10:00:04.500). After a name the message
# starts at ": " or a full-width "：". Names have no spaces and no "："; a
# sub-account name such as 旗舰店:小美 keeps its ASCII colon. Syntax: docs/input-formats.md.

pattern = (?x) ^
	(?<ts> \d{4}-\d\d-\d\d [ ] \d\d:\d\d:\d\d (?: \.\d+ )? ) [ ]
	\[ (?<shop> [^\]]* ) \] [ ]
	(?:
	    # 买家 NAME [-> 客服 NAME]: TEXT
	    (?<from> 买家 ) [ ] (?<buyer> [^\s：]+ )
	    (?: [ ] -> [ ] 客服 [ ] (?<agent> [^\s：]+ ) )?
	    (?: :[ ] | ： ) (?<text> .* )
	  | # 客服 NAME -> 买家 NAME: TEXT
	    (?<from> 客服 ) [ ] (?<agent> \S+ ) [ ] -> [ ] 买家 [ ] (?<buyer> [^\s：]+ )
	    (?: :[ ] | ： ) (?<text> .* )
	  | # 机器人 [NAME] -> 买家 NAME: TEXT
	    (?<from> 机器人 ) (?: [ ] (?<agent> \S+ ) )? [ ] -> [ ] 买家 [ ] (?<buyer> [^\s：]+ )
	    (?: :[ ] | ： ) (?<text> .* )
	  | # 下单|付款 买家 NAME 订单 ID [金额 YUAN]
	    (?<kind> 下单 | 付款 ) [ ] 买家 [ ] (?<buyer> \S+ ) [ ] 订单 [ ] (?<order> \S+ )
	    (?: [ ] 金额 [ ] (?<amount> \S+ ) )?
	)
	$

ts_format = %Y-%m-%d %H:%M:%S

from.买家 = buyer
from.客服 = agent
from.机器人 = bot
kind.下单 = order
kind.付款 = pay
