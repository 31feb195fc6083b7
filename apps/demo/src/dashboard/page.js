// The dashboard's script: renders the snapshots the demo pushes over Server-Sent Events and
// drives the buttons. Plain browser JavaScript, no build step; uPlot draws the chart.
const $ = (id) => document.getElementById(id)

const percent = (rate) => (rate === null ? '—' : `${(rate * 100).toFixed(1)} %`)

function duration(ms) {
  if (ms === null) return 'never'
  const seconds = Math.ceil(ms / 1000)
  const minutes = Math.floor(seconds / 60)
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`
}

function cell(text) {
  const td = document.createElement('td')
  td.textContent = text
  return td
}

function row(cells, attributes = {}) {
  const tr = document.createElement('tr')
  for (const [name, value] of Object.entries(attributes)) tr.setAttribute(name, value)
  for (const text of cells) tr.append(cell(text))
  return tr
}

let chart

function drawChart(history) {
  const data = [
    history.map((p) => p.t),
    history.map((p) => (p.hitRate === null ? null : p.hitRate * 100)),
  ]
  if (chart === undefined) {
    chart = new uPlot(
      {
        width: $('chart').clientWidth || 900,
        height: 200,
        scales: { x: { time: false }, y: { range: [0, 100] } },
        legend: { show: false },
        axes: [{ label: 'seconds since start' }, { label: 'hit rate %' }],
        series: [
          { label: 's' },
          { label: 'hit rate', stroke: '#2f6fb0', width: 2, fill: 'rgba(47,111,176,0.12)' },
        ],
      },
      data,
      $('chart'),
    )
  } else {
    chart.setData(data)
  }
}

function render(snapshot) {
  $('store-label').textContent = snapshot.labels.store
  $('db-label').textContent = snapshot.labels.database
  $('counters-label').textContent = snapshot.labels.counters
  $('instance-label').textContent = snapshot.labels.instance

  const banner = $('banner')
  if (snapshot.backend.up) {
    banner.hidden = true
  } else {
    banner.hidden = false
    banner.textContent = `Cache backend unavailable (${snapshot.backend.code ?? 'error'}) since ${new Date(snapshot.backend.since).toLocaleTimeString()}: ${snapshot.backend.message}. Reads are answered from the database until it is back.`
  }

  $('stores').replaceChildren(
    ...Object.entries(snapshot.stores).map(([name, s]) =>
      row(
        [name, s.hits, s.misses, s.writes, s.forgets, s.flushes, s.errors, percent(s.hitRate)].map(
          String,
        ),
        { 'data-store': name },
      ),
    ),
  )
  $('db-queries').textContent = String(snapshot.database.queries)
  $('db-reads').textContent = String(snapshot.database.reads)
  $('saved').textContent = String(snapshot.database.saved)

  $('keys').replaceChildren(
    ...snapshot.keys.map((k) => {
      const generation = k.current === undefined ? '' : k.current ? 'current' : 'old'
      const tr = row([k.key, duration(k.ttlMs), generation], { 'data-key': k.key })
      if (k.current === false) tr.className = 'gone'
      return tr
    }),
  )
  $('keys-note').textContent = snapshot.keysError
    ? `Listing failed: ${snapshot.keysError}`
    : `${snapshot.keys.length} key(s) under this cache's prefix`

  $('lists').replaceChildren(
    ...snapshot.lists.map((l) => {
      const state = l.cached === null ? 'unknown' : l.cached ? 'cached' : 'not cached'
      const tr = row([l.key, state], { 'data-list': l.key })
      tr.className = l.cached ? 'cached' : 'gone'
      return tr
    }),
  )
  const orders = snapshot.orders
  $('orders-window').textContent =
    `${new Date(orders.window.ge).toLocaleString()} → ${new Date(orders.window.lt).toLocaleString()}`
  $('orders-hit').textContent = String(orders.reads.hit)
  $('orders-refresh').textContent = String(orders.reads.hitWithRefresh)
  $('orders-miss').textContent = String(orders.reads.miss)
  $('orders-queries').textContent = String(orders.queries)
  const limiter = snapshot.limiter
  $('limit-policy').textContent =
    `policy "${limiter.policy}": ${limiter.limit} requests per ${limiter.windowMs / 1000} s per client`
  $('notices').textContent =
    snapshot.notices === null
      ? 'One instance (CACHE_STORE=tiered runs several behind one Redis).'
      : `Writes announced by other instances: ${snapshot.notices.count}`
  drawChart(snapshot.history)
  document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots ?? 0) + 1)
}

function connect() {
  const source = new EventSource('/dashboard/events')
  source.addEventListener('snapshot', (event) => render(JSON.parse(event.data)))
  source.addEventListener('open', () => {
    $('connection').textContent = 'live'
  })
  source.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting…'
  })
}

function show(action, text) {
  const result = $('result')
  result.dataset.action = action
  result.textContent = text
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  })
  return { response, json: await response.json() }
}

const productId = () => $('product').value

const actions = {
  async load() {
    const first = await call('GET', `/products/${productId()}`)
    const second = await call('GET', `/products/${productId()}`)
    show('load', `product ${productId()}: ${first.json.cache}, then ${second.json.cache}`)
  },
  async update() {
    const price = 1000 + Math.floor(Math.random() * 9000)
    const { json } = await call('PATCH', `/products/${productId()}`, { priceCents: price })
    const what = json.invalidated
      ? `bumped ${json.bumpedTags.length} generations (category ${json.categories.join(', ')})`
      : 'nothing bumped (cache down)'
    show('update', `product ${productId()} now ${price} cents: ${what}`)
  },
  async burst() {
    const { json } = await call('POST', '/dashboard/burst')
    show(
      'burst',
      `${json.requests} searches → ${json.allowed} allowed, ${json.refused} refused (429, Retry-After: ${json.retryAfter} s)`,
    )
  },
  async order() {
    const { json } = await call('POST', '/orders', { productId: Number(productId()), quantity: 1 })
    const recent = await call('GET', '/orders/recent?hours=1')
    const shown = recent.json.orders.some((order) => order.id === json.order.id)
    show(
      'order',
      `order ${json.order.id} added: ${shown ? 'in' : 'NOT in'} the last hour's ${recent.json.count} (${recent.json.served})`,
    )
  },
  async stampede() {
    show('stampede', 'firing 200 concurrent requests for the product page…')
    const { json } = await call('POST', `/dashboard/stampede?id=${productId()}`)
    const outcomes = Object.entries(json.outcomes)
      .map(([name, count]) => `${count} ${name}`)
      .join(', ')
    const queries = json.databaseQueries
    show(
      'stampede',
      `${json.requests} requests → ${queries} database ${queries === 1 ? 'query' : 'queries'} (${outcomes})`,
    )
  },
  async flush() {
    await call('POST', '/dashboard/flush')
    show('flush', 'cache flushed')
  },
}

for (const [id, action] of Object.entries(actions)) {
  $(id).addEventListener('click', () => {
    action().catch((error) => show(id, `failed: ${error.message}`))
  })
}

connect()
