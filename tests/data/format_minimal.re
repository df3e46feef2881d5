# A minimal line-regex format for tests: "TS BUYER FROM: TEXT", TS in RFC 3339 or epoch.
pattern = ^(?<ts>\S+) (?<buyer>\S+) (?<from>\w+): (?<text>.*)$
