#!/usr/bin/env bash
# Starts each broker the tests talk to when it is not answering on its loopback port.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    if listening "$port"; then
      echo "$name is up on $port"
      return 0
    fi
    sleep 1
  done
  echo "$name did not come up on port $port" >&2
  return 1
}

start() {
  local name=$1 port=$2
  shift 2
  if listening "$port"; then
    echo "$name is up on $port"
    return 0
  fi
  echo "starting $name"
  "$@"
  wait_for "$name" "$port"
}

start redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
  --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
start nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server \
  -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
start rabbitmq 5672 rabbitmq-server -detached
start mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf
