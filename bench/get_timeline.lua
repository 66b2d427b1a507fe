-- wrk script: GET one URL with an API key, e.g. a waybill's timeline.
--
-- Usage (bench/events.py runs it for you):
--   wrk -t1 -c32 -d10s --latency -s bench/get_timeline.lua \
--       http://127.0.0.1:8000/v1/waybills/{number}/timeline -- API_KEY
--
-- Answers outside 2xx are counted by bench/wrk_counts.lua.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_counts.lua")

local prepared

function init(args)
   assert(args[1], "usage: -- API_KEY")
   prepared = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. args[1] })
end

function request()
   sent = sent + 1
   return prepared
end
