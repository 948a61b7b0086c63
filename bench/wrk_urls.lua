-- wrk script: cycles through the request targets listed in $URLS (one path?query per line),
-- sending $METHOD (GET, or PUT with a 4 KiB body).
local urls = {}
for line in io.lines(os.getenv("URLS")) do
  if #line > 0 then urls[#urls + 1] = line end
end
local method = os.getenv("METHOD") or "GET"
local body = nil
if method == "PUT" then body = string.rep("x", 4096) end
local i = 0

function setup(thread)
  thread:set("offset", math.random(#urls))
end

request = function()
  i = i + 1
  local n = ((i + (offset or 0)) % #urls) + 1
  return wrk.format(method, urls[n], nil, body)
end
