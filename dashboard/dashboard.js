// chatlogd's dashboard: the two pages (index.html, agent.html) drawn from the JSON API
// of `chatlogctl serve` (docs/dashboard.md). Every text that comes from the logs
// (shop and agent names, alert messages) reaches the page through textContent or
// d3's .text(), never as markup. Formatted numbers ("12.5s", "37.3%") are the
// server's, the cells `chatlogctl top` prints, so both always agree.
(function () {
  'use strict';

  var params = new URLSearchParams(location.search);
  var token = params.get('token');
  var REFRESH_MS = 10000;
  var TREND_REFRESH_MS = 30000;
  var MAX_ALERTS = 100;

  var TYPES = {raised: '告警', cleared: '恢复', expired: '结束', waiting: '买家等待', warning: '预警'};
  var METRICS = {frt: '首次响应', art: '平均响应'};
  var PERIODS = {day: '当天', '1m': '最近 1 分钟', '5m': '最近 5 分钟', '15m': '最近 15 分钟',
                 '1h': '最近 1 小时', '24h': '最近 24 小时'};

  // ---- small helpers ----

  function $(id) { return document.getElementById(id); }

  // An element with text (never markup), attributes and children.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'class') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // A URL of this server with the token carried along, so links and API calls
  // work on a dashboard that needs one.
  function url(path, query) {
    var u = new URL(path, location.href);
    Object.keys(query || {}).forEach(function (k) {
      if (query[k] !== null && query[k] !== undefined && query[k] !== '') u.searchParams.set(k, query[k]);
    });
    if (token) u.searchParams.set('token', token);
    return u.pathname + u.search;
  }

  var STATUS = {400: '请求参数不对', 401: '需要令牌：在网址后加上 ?token=令牌',
                403: '这个看板只接受本机地址（127.0.0.1、localhost）的访问',
                404: 'Redis 里没有这个店铺或客服', 503: 'Redis 无法连接，请查看 chatlogctl serve 的日志'};

  function getJSON(path, query) {
    return fetch(url(path, query), {cache: 'no-store'}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok)
          throw new Error((STATUS[r.status] || ('HTTP ' + r.status)) +
            ((r.status === 400 || r.status === 404) && body.error ? '（' + body.error + '）' : ''));
        return body;
      });
    });
  }

  function showError(err) {
    var box = $('error');
    if (!err) { box.hidden = true; return; }
    box.textContent = '读取数据失败：' + err.message;
    box.hidden = false;
  }

  function stamp() {
    $('updated').textContent = '更新于 ' + new Date().toLocaleTimeString('zh-CN', {hour12: false});
  }

  // Milliseconds as seconds with one decimal, rounded half up in integers (as the
  // server rounds), for alert messages, which carry raw milliseconds.
  function seconds(ms) {
    if (typeof ms !== 'number' || ms < 0) return '-';
    var tenths = Math.floor((ms + 50) / 100);
    return Math.floor(tenths / 10) + '.' + (tenths % 10) + ' 秒';
  }

  function percentile(text) { return text === '-' ? '-' : text.replace('<=', '≤'); }

  function cell(key, text, cls) {
    return el('td', {'data-k': key, 'class': cls || '', text: String(text)});
  }

  // ---- alerts ----

  function alertLine(a, shop, agent) {
    if (typeof a !== 'object' || a === null) return {type: '?', text: String(a)};
    var who = (shop || a.shop || '?') + ' / ' + (agent || a.agent || '?');
    var metric = METRICS[a.metric] || a.metric || '';
    var what;
    if (a.type === 'waiting' || a.type === 'warning')
      what = '买家 ' + (a.buyer || '?') + ' 已等待 ' + seconds(a.value_ms) + '（目标 ' + seconds(a.target_ms) + '）';
    else if (a.type === 'expired')
      what = metric + ' 告警结束：' + (a.window_s >= 0 ? a.window_s : '?') + ' 秒内样本不足（剩 ' +
        (a.samples >= 0 ? a.samples : '?') + ' 次）';
    else
      what = metric + ' ' + seconds(a.value_ms) + '，目标 ' + seconds(a.target_ms) +
        '（' + (a.samples >= 0 ? a.samples : '?') + ' 次，' + (a.window_s >= 0 ? a.window_s : '?') + ' 秒内）';
    return {type: a.type, label: TYPES[a.type] || a.type || '?', text: who + '：' + what,
            time: typeof a.ts === 'string' ? a.ts.substr(11, 8) : ''};
  }

  function alertItem(alert, shop, agent, fresh) {
    var line = alertLine(alert, shop, agent);
    return el('li', {'class': (line.type || 'unknown') + (fresh ? ' new' : ''), 'data-alert': '1'}, [
      el('span', {'class': 'time', text: line.time || ''}),
      el('span', {'class': 'type', text: line.label || '?'}),
      el('span', {'class': 'text', text: line.text})
    ]);
  }

  function showAlerts(list) {
    var ul = $('alerts');
    clear(ul);
    list.recent.slice().reverse().forEach(function (r) { ul.appendChild(alertItem(r.alert)); });
    if (!ul.firstChild) ul.appendChild(el('li', {'class': 'none', text: '暂无告警'}));
  }

  function setLive(on) {
    var live = $('live');
    live.className = 'live ' + (on ? 'on' : 'off');
    live.textContent = on ? '实时告警：已连接' : '实时告警：未连接';
  }

  // Alerts pushed by the server (SSE): those keep() accepts are listed (all when it
  // is null), then onAlert runs for every one.
  function followAlerts(onAlert, keep) {
    var source = new EventSource(url('api/events'));
    var redisLive = false;
    source.addEventListener('status', function (e) {
      try { redisLive = JSON.parse(e.data).live === true; } catch (err) { redisLive = false; }
      setLive(redisLive);
    });
    source.addEventListener('alert', function (e) {
      var alert;
      try { alert = JSON.parse(e.data); } catch (err) { alert = e.data; }
      if (onAlert) onAlert(alert);
      if (keep && !keep(alert)) return;
      var ul = $('alerts');
      var none = ul.querySelector('li.none');
      if (none) ul.removeChild(none);
      ul.insertBefore(alertItem(alert, null, null, true), ul.firstChild);
      while (ul.children.length > MAX_ALERTS) ul.removeChild(ul.lastChild);
    });
    source.onerror = function () { setLive(false); };
    source.onopen = function () { setLive(redisLive); };
  }

  // ---- lost reasons ----

  function showReasons(box, reasons, totalBox) {
    clear(box);
    var lost = reasons.reduce(function (n, r) { return n + r.count; }, 0);
    if (totalBox) totalBox.textContent = '共 ' + lost + ' 个流失询单';
    if (reasons.length === 0) {
      box.appendChild(el('p', {'class': 'muted', text: '暂无流失询单（流失在下单窗口过后判定）'}));
      return;
    }
    var most = reasons[0].count;
    reasons.forEach(function (r) {
      var fill = el('div', {'class': 'fill'});
      fill.style.width = (100 * r.count / most).toFixed(1) + '%';
      box.appendChild(el('div', {'class': 'reason', 'data-reason': r.reason}, [
        el('span', {'class': 'label', title: r.reason, text: r.label || r.reason}),
        el('div', {'class': 'track'}, [fill]),
        el('span', {'class': 'count', 'data-k': 'count', text: String(r.count)}),
        el('span', {'class': 'share', text: (Math.round(r.share * 1000) / 10).toFixed(1) + '%'})
      ]));
    });
  }

  // "响应慢 34 · 其他 28 · 缺货 12": a row's most frequent lost reasons.
  function topReasons(row, labels) {
    return Object.keys(row.lost_reasons).slice(0, 3).map(function (k) {
      return (labels[k] || k) + ' ' + row.lost_reasons[k];
    }).join(' · ');
  }

  // ---- charts (d3 from the Debian package; left out when it is not installed) ----

  function clockFormat(timezone) {
    var f;
    try {
      f = new Intl.DateTimeFormat('zh-CN', {timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
    } catch (err) {
      f = new Intl.DateTimeFormat('zh-CN', {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
    }
    return function (d) { return f.format(d); };
  }

  // One small chart: points [x, y] (y null: no value) as a line with dots, or bars.
  function chart(box, title, points, opts) {
    var wrap = el('div', {'class': 'chart', 'data-chart': opts.key}, [el('div', {'class': 'title', text: title})]);
    box.appendChild(wrap);
    if (!window.d3) {
      wrap.appendChild(el('p', {'class': 'muted', text: '图表库未安装（libjs-d3）'}));
      return;
    }
    var width = Math.max(wrap.clientWidth, 160), height = 120;
    var m = {top: 6, right: 18, bottom: 18, left: 40};
    var w = width - m.left - m.right, h = height - m.top - m.bottom;
    var svg = d3.select(wrap).append('svg').attr('viewBox', '0 0 ' + width + ' ' + height)
      .attr('height', height);
    var g = svg.append('g').attr('transform', 'translate(' + m.left + ',' + m.top + ')');
    var values = points.filter(function (p) { return p[1] !== null; });
    if (points.length === 0 || values.length === 0) {
      g.append('text').attr('class', 'empty').attr('x', w / 2).attr('y', h / 2)
        .attr('text-anchor', 'middle').text('暂无数据');
      return;
    }
    var x = opts.time ? d3.time.scale() : d3.scale.linear();
    x.domain(opts.domain || d3.extent(points, function (p) { return p[0]; })).range([0, w]);
    var top = d3.max(values, function (p) { return p[1]; });
    if (opts.target) top = Math.max(top, opts.target);
    var y = d3.scale.linear().domain([0, opts.max || top || 1]).nice().range([h, 0]);
    var xAxis = d3.svg.axis().scale(x).orient('bottom').ticks(opts.ticks || 5);
    if (opts.format) xAxis.tickFormat(opts.format);
    g.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + h + ')').call(xAxis);
    g.append('g').attr('class', 'axis')
      .call(d3.svg.axis().scale(y).orient('left').ticks(4).tickFormat(opts.yFormat || d3.format('d')));
    if (opts.target) {
      g.append('line').attr('class', 'target').attr('x1', 0).attr('x2', w)
        .attr('y1', y(opts.target)).attr('y2', y(opts.target));
    }
    if (opts.bars) {
      var span = opts.domain ? opts.domain[1] - opts.domain[0] : points.length;
      var bw = Math.max(1, (opts.domain ? 0.7 * w / span : w / span - 0.5));
      g.selectAll('rect').data(values).enter().append('rect').attr('class', 'bar')
        .attr('x', function (p) { return x(p[0]) - bw / 2; }).attr('width', bw)
        .attr('y', function (p) { return y(p[1]); })
        .attr('height', function (p) { return h - y(p[1]); });
      return;
    }
    g.append('path').attr('class', 'line').attr('d', d3.svg.line()
      .defined(function (p) { return p[1] !== null; })
      .x(function (p) { return x(p[0]); }).y(function (p) { return y(p[1]); })(points));
    g.selectAll('circle').data(values).enter().append('circle').attr('class', 'dot').attr('r', 1.3)
      .attr('cx', function (p) { return x(p[0]); }).attr('cy', function (p) { return y(p[1]); });
  }

  // The day minute by minute: FRT, ART, reply rate, conversion, buyers left waiting.
  function showTrend(box, trend) {
    clear(box);
    var col = {};
    trend.columns.forEach(function (c, i) { col[c] = i; });
    // from the first minute with anything in it to now (or the day's end)
    var first = trend.points.findIndex(function (p) {
      return p[col.inquiries] + p[col.post_sale] + p[col.unanswered] + p[col.frt_breaches] > 0 ||
        p[col.frt_avg_ms] !== null || p[col.art_avg_ms] !== null;
    });
    var pts = first < 0 ? [] : trend.points.slice(first);
    var fmt = clockFormat(trend.timezone);
    function series(c, scale) {
      return pts.map(function (p) {
        return [new Date(p[col.t_ms]), p[col[c]] === null ? null : p[col[c]] * scale];
      });
    }
    var pct = function (v) { return v + '%'; };
    chart(box, '首响均值（秒）', series('frt_avg_ms', 0.001), {key: 'frt', time: true, format: fmt});
    chart(box, '平均响应（秒）', series('art_avg_ms', 0.001), {key: 'art', time: true, format: fmt});
    chart(box, '回复率', series('reply_rate', 100), {key: 'reply', time: true, format: fmt, max: 100, yFormat: pct});
    chart(box, '询单转化率', series('conversion', 100), {key: 'conversion', time: true, format: fmt, max: 100, yFormat: pct});
    chart(box, '等待未回复的买家（人）', series('unanswered', 1), {key: 'waiting', time: true, format: fmt, bars: true});
    chart(box, '首响超时（次）', series('frt_breaches', 1), {key: 'breaches', time: true, format: fmt, bars: true});
  }

  // ---- index.html: the shops and one shop ----

  function indexPage() {
    var state = {period: params.get('period') || 'day', day: params.get('day') || '',
                 shop: params.get('shop'), offset: 0, limit: 100, lastTrend: 0};
    var periodSelect = $('period'), dayInput = $('day');
    periodSelect.value = PERIODS[state.period] ? state.period : 'day';
    state.period = periodSelect.value;
    dayInput.value = state.day;

    function remember() {
      history.replaceState(null, '', url('./', {period: state.period === 'day' ? '' : state.period,
                                                day: state.day, shop: state.shop}));
    }
    function periodQuery() {
      return {period: state.period, day: state.period === 'day' ? state.day : ''};
    }
    periodSelect.addEventListener('change', function () {
      state.period = periodSelect.value;
      $('day-label').hidden = state.period !== 'day';
      remember();
      refresh(true);
    });
    dayInput.addEventListener('change', function () {
      state.day = dayInput.value;
      remember();
      refresh(true);
    });
    $('day-label').hidden = state.period !== 'day';
    $('prev').addEventListener('click', function () { state.offset = Math.max(0, state.offset - state.limit); refresh(); });
    $('next').addEventListener('click', function () { state.offset += state.limit; refresh(); });

    function kpis(overview) {
      var box = $('kpis'), all = overview.all, t = all.text;
      clear(box);
      [['询单（售前）', all.inquiries, 'inquiries'], ['售后', all.post_sale, 'post_sale'],
       ['首响均值', t.frt_avg, 'frt_avg'], ['平均响应', t.art_avg, 'art_avg'],
       ['回复率', t.reply, 'reply'], ['询单转化率', t.conversion, 'conversion'],
       ['付款转化率', t.pay_conversion, 'pay_conversion'], ['客单价', t.aov, 'aov'],
       ['销售额（元）', t.sales, 'sales'], ['流失', all.lost, 'lost'],
       ['当前告警', overview.active_alerts, 'active_alerts']].forEach(function (k) {
        box.appendChild(el('div', {'class': 'kpi', 'data-kpi': k[2]}, [
          el('div', {'class': 'label', text: k[0]}), el('div', {'class': 'value', text: String(k[1])})]));
      });
    }

    function shopRow(s) {
      var r = s.total, t = r.text;
      var tr = el('tr', {'class': 'pick' + (s.shop === state.shop ? ' selected' : ''), 'data-shop': s.shop}, [
        el('td', {'class': 'name', 'data-k': 'shop', text: s.shop}),
        cell('inquiries', r.inquiries), cell('post_sale', r.post_sale), cell('frt_avg', t.frt_avg),
        cell('frt_p90', percentile(t.frt_p90)), cell('art_avg', t.art_avg), cell('reply', t.reply),
        cell('conversion', t.conversion), cell('pay_conversion', t.pay_conversion), cell('aov', t.aov),
        cell('sales', t.sales), cell('lost', r.lost),
        s.alerts > 0 ? el('td', {'data-k': 'alerts'}, [el('span', {'class': 'badge', text: String(s.alerts)})])
                     : cell('alerts', 0, 'muted')
      ]);
      tr.addEventListener('click', function () { state.shop = s.shop; remember(); refresh(true); });
      return tr;
    }

    function showOverview(o) {
      kpis(o);
      var body = $('shops').tBodies[0];
      clear(body);
      o.shops.forEach(function (s) { body.appendChild(shopRow(s)); });
      if (o.shops.length === 0)
        body.appendChild(el('tr', {}, [el('td', {'class': 'name', text: '还没有店铺的数据（Redis 里没有 ' + 'shops 集合）'})]));
      $('shop-count').textContent = '共 ' + o.shop_count + ' 个店铺 · ' + PERIODS[o.period] + (o.day ? ' ' + o.day : '');
      $('pager').hidden = o.shop_count <= o.limit;
      $('page').textContent = (o.offset + 1) + '–' + Math.min(o.offset + o.limit, o.shop_count) + ' / ' + o.shop_count;
      $('prev').disabled = o.offset === 0;
      $('next').disabled = o.offset + o.limit >= o.shop_count;
      if (!state.shop && o.shops.length > 0) { state.shop = o.shops[0].shop; }
      if (o.day && !dayInput.value) dayInput.value = o.day;
    }

    function agentRow(a, labels, total) {
      var t = a.text;
      var name = a.agent === '*' ? el('td', {'class': 'name', 'data-k': 'agent', text: '（全店）'})
        : a.agent === '-' ? el('td', {'class': 'name', 'data-k': 'agent', title: '没有客服接待的询单', text: '-（无人接待）'})
        : el('td', {'class': 'name', 'data-k': 'agent'}, [
            a.alert ? el('span', {'class': 'flag', title: '告警中', text: '!'}) : null,
            el('a', {href: url('agent.html', {shop: state.shop, agent: a.agent, day: state.day}), text: a.agent})]);
      return el('tr', {'class': total ? 'total' : '', 'data-agent': a.agent}, [
        name, cell('inquiries', a.inquiries), cell('post_sale', a.post_sale), cell('frt_avg', t.frt_avg),
        cell('frt_p', percentile(t.frt_p50) + ' / ' + percentile(t.frt_p90)), cell('frt_breaches', a.frt_breaches),
        cell('art_avg', t.art_avg), cell('art_p', percentile(t.art_p50) + ' / ' + percentile(t.art_p90)),
        cell('response_breaches', a.response_breaches), cell('reply', t.reply), cell('conversion', t.conversion),
        cell('pay_conversion', t.pay_conversion), cell('aov', t.aov), cell('lost', a.lost),
        el('td', {'class': 'reasons', 'data-k': 'top_reasons', text: topReasons(a, labels)})
      ]);
    }

    function showShop(s) {
      var labels = {};
      s.lost_reasons.forEach(function (r) { labels[r.reason] = r.label || r.reason; });
      $('shop-panel').hidden = false;
      $('shop-name').textContent = s.shop;
      $('shop-period').textContent = PERIODS[s.period] + (s.day ? ' ' + s.day : '') +
        (s.total.as_of ? '（截至 ' + s.total.as_of.substr(11, 8) + '）' : '');
      var body = $('agents').tBodies[0];
      clear(body);
      s.agents.forEach(function (a) { body.appendChild(agentRow(a, labels, false)); });
      body.appendChild(agentRow(s.total, labels, true));
      showReasons($('reasons'), s.lost_reasons, $('reasons-total'));
    }

    var busy = false;
    function refresh(force) {
      if (busy) return;
      busy = true;
      getJSON('api/overview', Object.assign({offset: state.offset, limit: state.limit}, periodQuery()))
        .then(function (o) {
          showOverview(o);
          if (!state.shop) return null;
          return getJSON('api/shop', Object.assign({shop: state.shop}, periodQuery())).then(function (s) {
            showShop(s);
            if (force || Date.now() - state.lastTrend > TREND_REFRESH_MS) {
              state.lastTrend = Date.now();
              return getJSON('api/trend', {shop: state.shop, day: state.day}).then(function (t) {
                $('trend-day').textContent = t.day;
                showTrend($('trend'), t);
              });
            }
            return null;
          });
        })
        .then(function () { showError(null); stamp(); document.body.setAttribute('data-loaded', '1'); },
              showError)
        .then(function () { busy = false; });
    }

    getJSON('api/alerts').then(function (a) { showAlerts(a); setLive(a.live); }, showError);
    var soon = null;
    followAlerts(function () {
      // an alert changes the markers and counts: refresh soon, once for a burst
      if (soon === null) soon = setTimeout(function () { soon = null; refresh(); }, 1000);
    });
    refresh(true);
    setInterval(refresh, REFRESH_MS);
  }

  // ---- agent.html: one agent's windows, day and month ----

  var PERIOD_ROWS = [
    ['询单（售前）', function (r) { return r.inquiries; }, 'inquiries'],
    ['售后', function (r) { return r.post_sale; }, 'post_sale'],
    ['首次响应次数', function (r) { return r.first_responses; }, 'first_responses'],
    ['首响均值', function (r) { return r.text.frt_avg; }, 'frt_avg'],
    ['首响 P50', function (r) { return percentile(r.text.frt_p50); }, 'frt_p50'],
    ['首响 P90', function (r) { return percentile(r.text.frt_p90); }, 'frt_p90'],
    ['首响超时', function (r) { return r.frt_breaches; }, 'frt_breaches'],
    ['响应次数', function (r) { return r.responses; }, 'responses'],
    ['平均响应', function (r) { return r.text.art_avg; }, 'art_avg'],
    ['响应 P50', function (r) { return percentile(r.text.art_p50); }, 'art_p50'],
    ['响应 P90', function (r) { return percentile(r.text.art_p90); }, 'art_p90'],
    ['响应超时', function (r) { return r.response_breaches; }, 'response_breaches'],
    ['等待未回复', function (r) { return r.unanswered; }, 'unanswered'],
    ['回复率', function (r) { return r.text.reply; }, 'reply'],
    ['询单转化率', function (r) { return r.text.conversion; }, 'conversion'],
    ['付款转化率', function (r) { return r.text.pay_conversion; }, 'pay_conversion'],
    ['客单价', function (r) { return r.text.aov; }, 'aov'],
    ['销售额（元）', function (r) { return r.text.sales; }, 'sales'],
    ['流失', function (r) { return r.lost; }, 'lost']
  ];

  function agentPage() {
    var shop = params.get('shop'), agent = params.get('agent');
    var state = {day: params.get('day') || '', lastTrend: 0};
    $('day').value = state.day;
    $('agent-name').textContent = agent || '?';
    $('shop-name').textContent = shop || '?';
    $('back').setAttribute('href', url('./', {shop: shop, day: state.day}));
    document.title = (agent || '客服') + ' · chatlogd';
    $('day').addEventListener('change', function () {
      state.day = $('day').value;
      history.replaceState(null, '', url('agent.html', {shop: shop, agent: agent, day: state.day}));
      refresh(true);
    });

    function showPeriods(a) {
      var columns = [['1m', '1 分钟'], ['5m', '5 分钟'], ['15m', '15 分钟'], ['1h', '1 小时'], ['24h', '24 小时']];
      var rows = columns.map(function (c) { return a.windows[c[0]]; });
      var heads = columns.map(function (c) { return c[1]; });
      rows.push(a.today); heads.push(a.day);
      rows.push(a.month_total); heads.push(a.month + ' 月累计');
      var head = $('periods').tHead.rows[0];
      while (head.cells.length > 1) head.deleteCell(1);
      heads.forEach(function (h, i) {
        head.appendChild(el('th', {'data-col': i < 5 ? columns[i][0] : (i === 5 ? 'day' : 'month'), text: h}));
      });
      var body = $('periods').tBodies[0];
      clear(body);
      PERIOD_ROWS.forEach(function (m) {
        body.appendChild(el('tr', {'data-metric': m[2]}, [el('td', {'class': 'name', text: m[0]})].concat(
          rows.map(function (r, i) {
            return el('td', {'data-col': i < 5 ? columns[i][0] : (i === 5 ? 'day' : 'month'), text: String(m[1](r))});
          }))));
      });
      var banner = $('agent-alert');
      if (a.alert) {
        var line = alertLine(a.alert, shop, agent);
        banner.textContent = '告警中：' + line.text;
        banner.hidden = false;
      } else {
        banner.hidden = true;
      }
    }

    function showMonth(a) {
      $('month-label').textContent = a.month;
      var box = $('month-chart');
      clear(box);
      var days = a.days.map(function (d) { return [Number(d.day.substr(8, 2)), d.row]; });
      var axis = {domain: [0.5, days.length + 0.5], format: window.d3 ? window.d3.format('d') : null,
                  ticks: Math.min(days.length, 8)};
      chart(box, '询单（每天）', days.map(function (d) { return [d[0], d[1].inquiries]; }),
            Object.assign({key: 'month-inquiries', bars: true}, axis));
      chart(box, '询单转化率（每天）', days.map(function (d) {
        return [d[0], d[1].conversion === undefined ? null : d[1].conversion * 100];
      }), Object.assign({key: 'month-conversion', max: 100, yFormat: function (v) { return v + '%'; }}, axis));
      showReasons($('reasons'), a.day_lost_reasons);
      showReasons($('month-reasons'), a.month_lost_reasons);
    }

    var busy = false;
    function refresh(force) {
      if (busy) return;
      busy = true;
      getJSON('api/agent', {shop: shop, agent: agent, day: state.day}).then(function (a) {
        showPeriods(a);
        showMonth(a);
        if (!$('day').value) $('day').value = a.day;
        if (force || Date.now() - state.lastTrend > TREND_REFRESH_MS) {
          state.lastTrend = Date.now();
          return getJSON('api/trend', {shop: shop, agent: agent, day: state.day}).then(function (t) {
            $('trend-day').textContent = t.day;
            showTrend($('trend'), t);
          });
        }
        return null;
      }).then(function () { showError(null); stamp(); document.body.setAttribute('data-loaded', '1'); },
              showError)
        .then(function () { busy = false; });
    }

    function mine(alert) { return alert && alert.shop === shop && alert.agent === agent; }
    getJSON('api/alerts').then(function (a) {
      showAlerts({recent: a.recent.filter(function (r) { return mine(r.alert); })});
      setLive(a.live);
    }, showError);
    followAlerts(function (alert) { if (mine(alert)) refresh(); }, mine);
    refresh(true);
    setInterval(refresh, REFRESH_MS);
  }

  if (document.body.getAttribute('data-page') === 'agent') agentPage();
  else indexPage();
}());
