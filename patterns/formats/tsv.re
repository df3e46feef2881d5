# Tab-separated export with a header-free row per event, as spreadsheet and
# database dumps write it:
#
#   TS <TAB> SHOP <TAB> BUYER <TAB> AGENT <TAB> FROM <TAB> TEXT
#
# TS is RFC 3339 (2026-11-24T10:00:00+08:00) or Unix epoch seconds (1795485600.5);
# FROM is buyer, agent or bot, or the Chinese role words below; AGENT may be empty.
# Syntax: docs/input-formats.md.

pattern = ^(?<ts>[^\t]*)\t(?<shop>[^\t]*)\t(?<buyer>[^\t]*)\t(?<agent>[^\t]*)\t(?<from>[^\t]*)\t(?<text>.*)$

from.买家 = buyer
from.客服 = agent
from.机器人 = bot
