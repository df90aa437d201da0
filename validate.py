import json, re
src = json.load(open('/work/tr/chunk0.json'))
out = json.load(open('/work/tr/chunk0.out.json'))
ph = re.compile(r'%L?\d+|%n'); acc = re.compile(r'&(?![& ])')
probs = 0
for x in src:
    k = str(x['id']); s = x['source']
    if k not in out: print('MISSING', k); probs += 1; continue
    t = out[k]
    forms = t if x['numerus'] else [t]
    if x['numerus'] and (not isinstance(t, list) or len(t) != 2): print('NUMERUS', k); probs += 1; continue
    if not x['numerus'] and not isinstance(t, str): print('TYPE', k); probs += 1; continue
    for f in forms:
        if sorted(set(ph.findall(f))) != sorted(set(ph.findall(s))): print('PH', k, s, '=>', f); probs += 1
        if len(acc.findall(f)) != len(acc.findall(s)): print('ACC', k, s, '=>', f); probs += 1
        if x['numerus'] and '%n' in s and '%n' not in f: print('N', k); probs += 1
        for a, b in [(s.startswith(' '), f.startswith(' ')), (s.endswith(' '), f.endswith(' ')), (s.startswith('\n'), f.startswith('\n'))]:
            if a != b: print('WS', k, repr(s), repr(f)); probs += 1
        if s.rstrip()[-1:] in '.:…)]' and s.rstrip()[-1:] != f.rstrip()[-1:]: print('PUNCT', k, repr(s), repr(f))
        if s.count('"') != f.count('"'): print('QUOTES', k, s, '=>', f)
extra = set(out) - {str(x['id']) for x in src}
print('extra', extra, 'count', len(out), 'of', len(src), 'problems', probs)
