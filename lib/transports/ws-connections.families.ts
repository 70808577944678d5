/** The families of WebSocket connections, described once (names before the `prefix`). */
export const WS_CONNECTION_FAMILIES = {
  current: {
    name: 'ws_connections',
    help: 'WebSocket clients connected to the gateway now.',
    labels: ['gateway'],
  },
  opened: {
    name: 'ws_connections_total',
    help: 'WebSocket connections the gateway accepted.',
    labels: ['gateway'],
  },
} as const;
