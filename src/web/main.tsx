/**
 * The peercloud dashboard: served by every daemon at its API address, it shows the cloud as the
 * serving node can see it — the overlay crawled from it (graph and tables), its estimates of the
 * network-wide aggregates over time, the slices and their rings — and lets a signed-in user manage
 * their slices. See docs/DASHBOARD.md.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { CloudCharts, NodeCharts } from './components/Charts.js';
import { CreateSlice } from './components/CreateSlice.js';
import { NodesTable } from './components/NodesTable.js';
import { SignIn } from './components/SignIn.js';
import { SlicesTable } from './components/SlicesTable.js';
import { Summary } from './components/Summary.js';
import { useDashboardData } from './data.js';
import { graphFromOverlay } from './graph/model.js';
import { OverlayGraph } from './graph/OverlayGraph.js';
import { type BrowserUser, loadSavedUser } from './signing.js';
import { bytes, duration, num, percent, shortId } from './format.js';

function App() {
  const data = useDashboardData();
  const [user, setUser] = useState<BrowserUser | null>(() => loadSavedUser());
  const [selected, setSelected] = useState<string | null>(null);
  const [showViewEdges, setShowViewEdges] = useState(true);
  const [announcement, setAnnouncement] = useState('');
  const [toastVisible, setToastVisible] = useState(false);
  // The toast shows each announcement for a few seconds; the live region keeps the last one.
  useEffect(() => {
    if (announcement === '') return;
    setToastVisible(true);
    const timer = setTimeout(() => setToastVisible(false), 6_000);
    return () => clearTimeout(timer);
  }, [announcement]);
  const graph = useMemo(() => (data.overlay ? graphFromOverlay(data.overlay) : { nodes: [], viewEdges: [], ringEdges: [], slices: [] }), [data.overlay]);
  const selectedNode = data.overlay?.nodes.find((n) => n.id === selected) ?? null;

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>peercloud</h1>
        <p class="served-by">
          {data.node ? (
            <>
              dashboard of node <strong>{data.node.name}</strong> <span title={data.node.id}>({shortId(data.node.id)})</span> · v{data.node.version}
            </>
          ) : (
            'connecting…'
          )}
        </p>
        <p class={data.error ? 'status error' : 'status'} role="status" data-testid="connection">
          {data.error ? `node unreachable: ${data.error}` : data.updatedAt ? 'live' : 'loading…'}
        </p>
        <SignIn user={user} onUser={setUser} />
      </header>
      <main id="main">
        <Summary overlay={data.overlay} history={data.history} sliceCount={graph.slices.length} />

        <section aria-labelledby="overlay-h">
          <h2 id="overlay-h">Overlay</h2>
          <p class="hint">
            Every node reachable from this one, linked to the peers in its peer sampling view; slices are the coloured rings (each member to its T-Man
            successor). Red nodes did not answer the last crawls. Drag to pan, wheel or +/− to zoom, arrow keys to walk the nodes.
          </p>
          <div class="graph-controls">
            <label class="inline">
              <input type="checkbox" checked={showViewEdges} onChange={(e) => setShowViewEdges((e.target as HTMLInputElement).checked)} /> show view links
            </label>
            <ul class="legend" aria-label="Slices">
              {graph.slices.map((s) => (
                <li key={s.sliceId}>
                  <span class="swatch" style={{ background: s.color }} aria-hidden="true" /> {s.name}
                </li>
              ))}
            </ul>
          </div>
          <div class="graph-and-detail">
            <OverlayGraph data={graph} selected={selected} onSelect={setSelected} showViewEdges={showViewEdges} height={520} />
            <aside class="detail" aria-label="Selected node">
              {selectedNode?.snapshot ? (
                <>
                  <h3>{selectedNode.snapshot.name || shortId(selectedNode.id)}</h3>
                  <dl>
                    <dt>id</dt>
                    <dd class="mono">{selectedNode.id}</dd>
                    <dt>state</dt>
                    <dd>{selectedNode.state}</dd>
                    <dt>address</dt>
                    <dd>
                      {selectedNode.address.host}:{selectedNode.address.port}
                    </dd>
                    {selectedNode.snapshot.api && (
                      <>
                        <dt>dashboard</dt>
                        <dd>
                          <a href={`http://${selectedNode.snapshot.api.host}:${selectedNode.snapshot.api.port}/`}>open</a>
                        </dd>
                      </>
                    )}
                    <dt>cores · CPU score</dt>
                    <dd>
                      {selectedNode.snapshot.attributes.cores} · {num(selectedNode.snapshot.attributes.cpuScore, 0)}
                    </dd>
                    <dt>memory free</dt>
                    <dd>{bytes(selectedNode.snapshot.attributes.memoryFreeBytes)}</dd>
                    <dt>availability (week)</dt>
                    <dd>{percent(selectedNode.snapshot.attributes.availabilityWeek)}</dd>
                    <dt>uptime</dt>
                    <dd>{duration(selectedNode.snapshot.uptimeMs)}</dd>
                    <dt>slice</dt>
                    <dd>{selectedNode.snapshot.slice?.name ?? 'none'}</dd>
                    {selectedNode.snapshot.slice && (
                      <>
                        <dt>ring</dt>
                        <dd>
                          ← {label(data.overlay, selectedNode.snapshot.ring.predecessor)} · {label(data.overlay, selectedNode.snapshot.ring.successor)} →
                        </dd>
                      </>
                    )}
                    <dt>size estimate</dt>
                    <dd>{num(selectedNode.snapshot.network.size, 1)}</dd>
                  </dl>
                  <NodeCharts name={selectedNode.snapshot.name || shortId(selectedNode.id)} series={data.nodeSeries.get(selectedNode.id)} />
                </>
              ) : (
                <p class="muted">Select a node in the graph or the table to see it here.</p>
              )}
            </aside>
          </div>
        </section>

        <section aria-labelledby="slices-h">
          <h2 id="slices-h">Slices</h2>
          {user ? (
            <CreateSlice user={user} onCreated={data.refreshSlices} announce={setAnnouncement} />
          ) : (
            <p class="hint">Sign in with your user key (top right) to create and change slices through this node.</p>
          )}
          <SlicesTable overlay={data.overlay} owned={data.slices} colors={graph.slices} user={user} onChanged={data.refreshSlices} announce={setAnnouncement} />
        </section>

        <section aria-labelledby="charts-h">
          <h2 id="charts-h">Aggregates over time</h2>
          <p class="hint">As this node estimates them by gossip (aggregation epochs): no node adds up the cloud.</p>
          <CloudCharts history={data.history} />
        </section>

        <section aria-labelledby="nodes-h">
          <h2 id="nodes-h">Nodes</h2>
          <NodesTable overlay={data.overlay} selected={selected} onSelect={setSelected} />
        </section>
      </main>
      <div class="visually-hidden" aria-live="polite" data-testid="announcement">
        {announcement}
      </div>
      {announcement && toastVisible && (
        <p class="toast" aria-hidden="true">
          {announcement}
        </p>
      )}
    </>
  );
}

function label(overlay: { nodes: readonly { id: string; snapshot: { name: string } | null }[] } | null, id: string | null): string {
  if (id === null) return 'none';
  const n = overlay?.nodes.find((x) => x.id === id);
  return n?.snapshot?.name || shortId(id);
}

const container = document.getElementById('app')!;
container.textContent = ''; // the static "Loading…" line: Preact adds to a container, it does not replace it
render(<App />, container);
