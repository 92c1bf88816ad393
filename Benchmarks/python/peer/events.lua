-- wrk as API Gateway's integration: each request one event with the headers API Gateway sends
-- and the gateway secret. Arguments: connect|message|disconnect|bare API_ID SECRET PORT [ACTION]
-- (ACTION: the message's action, `echo` by default; the Python package's two-way echo is `echobody`)
-- (`bare`: a message's request to the backend's bare handler, the ceiling of the HTTP path)
-- Connection ids are 16 characters: the thread's number, then a counter, then "=". Messages go
-- to 50 ids each thread connected (from its 10th: wrk may spend a thread's first request
-- before the run), disconnects walk the connected ids in order from the 100th.
local mode, api, secret, port, action
local counter = 0
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

function init(args)
    mode, api, secret, port, action = args[1], args[2], args[3], args[4], args[5] or "echo"
end

function request()
    counter = counter + 1
    local n = counter
    if mode == "message" or mode == "bare" then n = (counter % 50) + 10 end
    if mode == "disconnect" then n = counter + 100 end
    local id = string.format("%02d%013d=", tid, n)
    local headers = {
        ["Connectionid"] = id,
        ["X-Amzn-Apigateway-Api-Id"] = api,
        ["X-Ws-Gateway-Secret"] = secret,
        ["User-Agent"] = "AmazonAPIGateway_" .. api,
        ["X-Amzn-Trace-Id"] = string.format("Root=1-5f84c7a9-%024x", tid * 100000000 + counter),
        ["X-Forwarded-For"] = "203.0.113.7",
        ["X-Forwarded-Proto"] = "https",
        ["X-Forwarded-Port"] = "443",
        ["X-Real-Ip"] = "203.0.113.7",
    }
    local body = ""
    local path = "/ws/" .. mode
    if mode == "connect" then
        headers["Cookie"] = "bench=1"
        headers["Origin"] = "http://127.0.0.1:" .. port
        headers["Sec-Websocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        headers["Sec-Websocket-Version"] = "13"
        headers["Sec-Websocket-Extensions"] = "permessage-deflate; client_max_window_bits"
    elseif mode == "message" or mode == "bare" then
        path = mode == "bare" and "/bench/bare" or "/ws/default"
        headers["Content-Type"] = "application/json"
        body = '{"action":"' .. action .. '","text":"hello, benchmark"}'
    end
    return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
    io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
        summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
