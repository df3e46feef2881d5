#!/usr/bin/env python3
"""tools/lost-reasons-guard.py: the start guards of patterns/lost-reasons.conf.

PCRE2 tries every alternative of a pattern at every character of a message, and with
UTF-8 its own start-of-match optimisation cannot tell Chinese characters apart (they
share a few lead bytes). A rule of a hundred alternatives thus costs microseconds on
every message its prefilter lets through. So each reason rule's pattern is written as
    (?=[CHARS])(?:ALTERNATIVES)
where CHARS are all the characters a match of ALTERNATIVES can start with: the guard
rejects most positions with one class test. This script computes CHARS from the
alternatives (skipping leading lookbehinds, lookaheads and ^, following optional
groups) and rewrites the guards; a line whose alternatives may start with anything
(., \\W, a negated class, an empty match) gets no guard.

Usage: tools/lost-reasons-guard.py [--check] [FILE]   (default patterns/lost-reasons.conf)
  --check  only report lines whose guard is missing or differs; exit 1 if any.
tests/test_lost_reasons.c checks that the file answers the same with its guards
stripped, on every case message.
"""
import os
import sys
def split_alts(p):
    alts=[];depth=0;cur='';i=0
    while i<len(p):
        c=p[i]
        if c=='\\': cur+=p[i:i+2]; i+=2; continue
        if c=='[':
            j=i+1
            if j<len(p) and p[j]=='^': j+=1
            if j<len(p) and p[j]==']': j+=1
            while p[j]!=']':
                if p[j]=='\\': j+=1
                j+=1
            cur+=p[i:j+1]; i=j+1; continue
        if c=='(': depth+=1
        if c==')': depth-=1
        if c=='|' and depth==0: alts.append(cur); cur=''; i+=1; continue
        cur+=c; i+=1
    alts.append(cur); return alts
def group_end(p,i):
    # p[i]=='(' ; return index after matching ')'
    depth=0;j=i
    while j<len(p):
        c=p[j]
        if c=='\\': j+=2; continue
        if c=='[':
            k=j+1
            if p[k]=='^': k+=1
            if p[k]==']': k+=1
            while p[k]!=']':
                if p[k]=='\\': k+=1
                k+=1
            j=k+1; continue
        if c=='(': depth+=1
        if c==')':
            depth-=1
            if depth==0: return j+1
        j+=1
    raise ValueError(p)
def quant(p,i):
    """returns (optional?, index after quantifier)"""
    if i<len(p) and p[i] in '?*': return True, i+1
    if i<len(p) and p[i]=='+': return False, i+1
    if i<len(p) and p[i]=='{':
        j=p.index('}',i); lo=p[i+1:j].split(',')[0]; return lo=='0', j+1
    return False, i
def first(p):
    """set of possible first chars of a match of sequence p, None=unknown; also returns can_be_empty"""
    i=0; out=set()
    while i<len(p):
        c=p[i]
        if c=='^': i+=1; continue
        if p.startswith('(?<!',i) or p.startswith('(?<=',i) or p.startswith('(?!',i) or p.startswith('(?=',i):
            i=group_end(p,i); continue
        if c=='(':
            e=group_end(p,i); inner=p[i+1:e-1]
            if inner.startswith('?:'): inner=inner[2:]
            elif inner.startswith('?'): return None,False
            fs=set(); empty=False
            for a in split_alts(inner):
                f,em=first(a)
                if f is None: return None,False
                fs|=f; empty|=em
            opt,i=quant(p,e)
            out|=fs
            if opt or empty: continue
            return out,False
        if c=='[':
            j=i+1
            if p[j]=='^': return None,False
            k=j
            if p[k]==']': k+=1
            while p[k]!=']':
                if p[k]=='\\': return None,False
                if p[k]=='-' and k>j and p[k+1]!=']': return None,False
                k+=1
            chars=set(p[j:k]); opt,i=quant(p,k+1); out|=chars
            if opt: continue
            return out,False
        if c=='\\':
            e=p[i+1]
            if e in 'dDwWsSbBpPxQEAzZ' or e.isdigit(): return None,False
            ch=e; opt,i=quant(p,i+2); out.add(ch)
            if opt: continue
            return out,False
        if c=='.' : return None,False
        if c in ')|': raise ValueError(p)
        opt,i=quant(p,i+1); out.add(c)
        if opt: continue
        return out,False
    return out,True


def cls(chars):
    s = ''
    for ch in sorted(chars):
        if ch in '\\]^-[':
            s += '\\' + ch
        elif ch == ' ':
            s += '\\x20'
        else:
            s += ch
    return '(?=[' + s + '])'


def strip_guard(pat):
    """The pattern without its guard, if it has one."""
    if pat.startswith('(?=[') and pat.endswith(')'):
        k = pat.index('])(?:') if '])(?:' in pat else -1
        if k > 0:
            inner = pat[k + 5:-1]
            # the guard wraps the whole pattern only if the group closes at the end
            if group_end('(' + inner + ')', 0) == len(inner) + 2:
                return inner
    return pat


def guarded(pat):
    pat = strip_guard(pat)
    chars = set()
    for a in split_alts(pat):
        f, empty = first(a)
        if f is None or empty:
            return pat
        chars |= f
    return cls(chars) + '(?:' + pat + ')'


def main():
    args = sys.argv[1:]
    check = '--check' in args
    args = [a for a in args if a != '--check']
    path = args[0] if args else os.path.join(os.path.dirname(__file__), '..', 'patterns',
                                             'lost-reasons.conf')
    out, differ = [], 0
    for lineno, line in enumerate(open(path, encoding='utf-8').read().split('\n'), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            out.append(line)
            continue
        reason, label, scope, pat = line.split(None, 3)
        # skip lines and inquiry lines (run once per inquiry, anchored at ^) take no guard
        new = pat if reason == 'skip' or scope == 'inquiry' else guarded(pat)
        if new != pat:
            differ += 1
            if check:
                print(f'{path}:{lineno}: guard missing or out of date')
        out.append(line[:len(line) - len(pat)] + new)
    if check:
        sys.exit(1 if differ else 0)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))


if __name__ == '__main__':
    main()
