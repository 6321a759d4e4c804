-- Argo CD health check for meshid.dev/MeshIdentity.
--
-- Install it under the argocd-cm key resource.customizations.health.meshid.dev_MeshIdentity
-- (manifests/argocd/argocd-cm-health-patch.yaml is generated from this file by `make manifests`;
-- so are health_test.yaml and testdata/, from the operator's own status computation).
-- Argo CD runs it with gopher-lua (Lua 5.1): `obj` is the live object, the script returns
-- {status, message}.
--
--   Healthy      Ready=True: every selected pod holds a current certificate (with reason
--                RestartRequired the message names pods that must restart to mount it).
--   Progressing  no status yet; status older than the spec (observedGeneration behind
--                metadata.generation); Ready=Unknown; or a reason the operator resolves by itself
--                in time (Pending: certificates on their way; NoPodsSelected: the workload has no
--                pods yet, e.g. scaled to zero or not yet synced).
--   Degraded     Ready=False for any other reason, each of which needs a person to act:
--                CANotReady, IssueFailed, DNSNameNotAllowed, DNSNameInvalid, InvalidSpec,
--                Conflict, and any reason newer than this script (better a visible alarm than a
--                sync that waits forever).
local hs = {}

local progressingReasons = {
  Pending = true,
  NoPodsSelected = true,
}

local function readyCondition(status)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" then
      return c
    end
  end
  return nil
end

local function conditionMessage(c)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return "Ready=" .. tostring(c.status) .. " (" .. tostring(c.reason) .. ")"
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

local ready = readyCondition(obj.status)
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the meshid operator to report status"
  return hs
end

-- A status computed from an older spec says nothing about the current one. Either record of the
-- observed generation may be absent; only one that is present and behind counts.
local function behind(observed)
  return generation ~= nil and observed ~= nil and observed < generation
end
if behind(obj.status.observedGeneration) or behind(ready.observedGeneration) then
  hs.status = "Progressing"
  hs.message = "Waiting for the meshid operator to observe generation " .. tostring(generation)
  return hs
end

hs.message = conditionMessage(ready)
if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status ~= "False" or progressingReasons[ready.reason] then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
return hs
