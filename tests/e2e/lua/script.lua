-- Exercises the interpreter paths whose functions are hot-patched (tables, the VM loop,
-- type names in error messages, every standard library's registration) and prints
-- deterministic results only: no addresses, times or unseeded randomness.

local function show(label, ...) print(label, ...) end

-- tables: array part, hash part, resizing, next(), length
local t = {}
for i = 1, 200 do t[i] = i * i end
for i = 1, 50 do t["k" .. i] = i end
local sum, keys = 0, 0
for k, v in pairs(t) do sum = sum + v; keys = keys + 1 end
show("table", #t, keys, sum, t[17], t.k42, t[1000], t.nope)
t[100] = nil
show("border", rawlen(t) == 200 or rawlen(t) == 99)

-- sorting with a comparator, table library
local words = {"pear", "apple", "fig", "banana", "cherry", "date"}
table.sort(words, function(a, b) return #a < #b or (#a == #b and a < b) end)
show("sorted", table.concat(words, ","))
table.insert(words, 1, "kiwi"); table.remove(words, 3)
show("edited", table.concat(words, " "), select("#", table.unpack(words)))
show("move", table.concat(table.move({1, 2, 3}, 1, 3, 2, {9}), ""))

-- closures, varargs, integer and float arithmetic
local function counter()
  local n = 0
  return function(step) n = n + (step or 1); return n end
end
local c = counter()
c(); c(5)
show("closure", c(), 7 // 2, 7 / 2, 7 % 3, 2 ^ 10, -7 // 2, 3 | 5, 6 & 3, 1 << 10, ~0)
show("math", math.floor(3.7), math.ceil(-3.2), math.max(4, 9, 2), math.type(1), math.type(1.0),
     math.tointeger(8.0), string.format("%.5f", math.pi), math.ult(1, -1), math.abs(math.mininteger))
math.randomseed(42)
local r = {}
for i = 1, 5 do r[i] = math.random(1, 1000) end
show("random", table.concat(r, " "))

-- strings: patterns, gsub, format, pack, utf8
local s = "The quick brown fox jumps over the lazy dog"
show("find", s:find("quick"), s:match("(%a+) dog"), select(2, s:gsub("o", "0")))
show("gsub", (s:gsub("%w+", function(w) return w:sub(1, 1):upper() end)))
show("format", string.format("%5d|%-5s|%x|%q|%g|%s", 42, "ab", 255, "a\nb", 1e20, true))
show("rep", ("ab"):rep(3, "-"), ("hello"):byte(1, -1))
show("pack", string.unpack("<i4 i2 z", string.pack("<i4 i2 z", 100000, -3, "zig")))
show("utf8", utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), utf8.codepoint("€"))
for p, cp in utf8.codes("aé") do io.write(p, ":", cp, " ") end
print()

-- coroutines and their status names
local co = coroutine.create(function(a, b)
  local x = coroutine.yield(a + b)
  local y = coroutine.yield(x * 2)
  return x + y
end)
show("co", coroutine.resume(co, 1, 2))
show("co", coroutine.status(co), coroutine.resume(co, 10))
show("co", coroutine.resume(co, 5))
show("co", coroutine.status(co), coroutine.isyieldable(), coroutine.running() ~= nil)
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
show("wrap", gen(), gen(), gen())

-- errors whose messages carry type names and token names
show("err", pcall(function() return 1 + {} end))
show("err", pcall(function() return #nil end))
show("err", pcall(function() return {} < {} end))
show("err", pcall(function() local a; a.b = 1 end))
show("err", load("x = = 1"))
show("err", load("for"))
show("err", select(2, pcall(error, {code = 7})).code)
show("err", select(2, pcall(error, "boom", 0)))
show("err", pcall(string.rep))
show("types", type(nil), type(1), type("s"), type({}), type(print), type(co), type(io.stdout))

-- metatables and metamethods
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end
V.__tostring = function(v) return "V(" .. v.x .. ")" end
V.__eq = function(a, b) return a.x == b.x end
V.__len = function(v) return v.x end
V.__call = function(v, y) return v.x * y end
local v = setmetatable({x = 3}, V) + setmetatable({x = 4}, V)
show("meta", tostring(v), #v, v(6), v == setmetatable({x = 7}, V), rawequal(v, v))

-- goto, integer for loops, while/repeat
local acc = 0
for i = 10, 1, -3 do acc = acc * 10 + i end
local n = 0
repeat n = n + 1 until n * n > 50
::again:: n = n + 1
if n < 12 then goto again end
show("loops", acc, n)

-- garbage collector and the os/io libraries' option tables
collectgarbage("collect")
show("gc", collectgarbage("isrunning"), collectgarbage("step", 0) ~= nil, collectgarbage("incremental"))
show("os", os.getenv("HOTPATCH_E2E_UNSET_VARIABLE"), type(os.clock()), os.date("!%Y-%m-%d", 0))
show("io", io.type(io.stdout), io.type(42), io.stdout:setvbuf("no"), io.stdout:seek("cur") ~= false)
show("debug", debug.traceback("tb", 1):match("^tb\nstack traceback:") ~= nil, debug.gethook())
show("package", type(package.path), type(package.searchers), #package.searchers, package.config:sub(1, 1))
show("string.meta", ("x"):upper(), ("10") + 5, "3" * "4")
print("done")
