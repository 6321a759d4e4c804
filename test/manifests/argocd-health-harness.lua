-- Runs an Argo CD health script as Argo CD does: the live object is the global `obj`, and the
-- script's chunk returns {status, message}. Usage: lua5.1 harness.lua <script> < object.lua,
-- where object.lua is `return <table>`. Prints the status and the message on two lines.
obj = dofile()
local hs = dofile(arg[1])
if type(hs) ~= "table" then
  error("the health script returned " .. type(hs) .. ", not a table")
end
io.write(tostring(hs.status), "\n", tostring(hs.message), "\n")
