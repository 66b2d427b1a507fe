-- wrk script: report transport events, one per request (POST /v1/waybills/{number}/events) or
-- BATCH_SIZE per request (POST /v1/waybills/{number}/events/batch).
--
-- Usage (bench/events.py runs it for you):
--   wrk -t1 -c32 -d10s --latency -s bench/post_event.lua http://127.0.0.1:8000/v1/waybills \
--       -- TEMPLATES_FILE NUMBERS_FILE API_KEY RUN_TAG BATCH_SIZE BASE_EPOCH THREADS
--
-- TEMPLATES_FILE holds event bodies, one JSON object a line, with the placeholders @EXTERNAL_REF@ and
-- @EVENT_TIME@; events take them in turn. NUMBERS_FILE holds the waybill numbers, one a line: requests
-- go round them in order, each thread starting at its own share, so that the requests in flight hit
-- different waybills (recording an event locks the waybill's row). Every event gets the unique
-- external_ref "<RUN_TAG>-<thread>-<request>-<i>" (a reused one would be replayed, not recorded) and
-- an event time BASE_EPOCH + a few seconds, in the past. BATCH_SIZE 0 posts single events.
-- Answers outside 2xx are counted by bench/wrk_counts.lua.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_counts.lua")

local templates, numbers, headers, ref_prefix, batch_size, base_epoch, offset

function init(args)
   local templates_file, numbers_file, api_key, run_tag = args[1], args[2], args[3], args[4]
   assert(args[7], "usage: -- TEMPLATES_FILE NUMBERS_FILE API_KEY RUN_TAG BATCH_SIZE BASE_EPOCH THREADS")
   batch_size, base_epoch = tonumber(args[5]), tonumber(args[6])
   templates, numbers = read_lines(templates_file), read_lines(numbers_file)
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. api_key,
   }
   ref_prefix = run_tag .. "-" .. thread_number .. "-"
   offset = math.floor(#numbers * (thread_number - 1) / tonumber(args[7]))
end

local function event_body(request_number, index)
   local serial = request_number * math.max(batch_size, 1) + index
   local template = templates[serial % #templates + 1]
   local event_time = os.date("!%Y-%m-%dT%H:%M:%SZ", base_epoch + serial % 86400)
   return (template:gsub("@EXTERNAL_REF@", ref_prefix .. request_number .. "-" .. index)
                   :gsub("@EVENT_TIME@", event_time))
end

function request()
   sent = sent + 1
   local number = numbers[(offset + sent - 1) % #numbers + 1]
   if batch_size == 0 then
      return wrk.format("POST", "/v1/waybills/" .. number .. "/events", headers, event_body(sent, 0))
   end
   local events = {}
   for index = 1, batch_size do
      events[index] = event_body(sent, index)
   end
   local body = '{"events":[' .. table.concat(events, ",") .. "]}"
   return wrk.format("POST", "/v1/waybills/" .. number .. "/events/batch", headers, body)
end
