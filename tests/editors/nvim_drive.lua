-- Drives Neovim's built-in LSP client against the gradguard server, headless.
-- Works with Neovim 0.7 (vim.lsp.start_client + buf_attach_client) and 0.11 (vim.lsp.start).
-- Inputs (environment): GG_SERVER_CMD (JSON array), GG_REPORT (path of the JSON report),
--   GG_TIMEOUT_MS. The file to edit is the current buffer.
-- Steps: attach, wait for GG201, hover on .detach, run the real vim.lsp.buf.code_action()
-- with vim.ui.select answering, wait for the diagnostic to clear, :write, quit.

local report = { steps = {}, nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) .. '.' .. tostring(vim.version().patch) }
local report_path = assert(os.getenv('GG_REPORT'), 'GG_REPORT not set')
local timeout = tonumber(os.getenv('GG_TIMEOUT_MS') or '30000')

local function write_report()
  local f = assert(io.open(report_path, 'w'))
  f:write(vim.fn.json_encode(report))
  f:close()
end

local function step(name, data)
  table.insert(report.steps, name)
  if data ~= nil then report[name] = data end
end

local function diag_code(d)
  if d.code ~= nil then return d.code end
  local lsp = d.user_data and d.user_data.lsp
  return lsp and lsp.code or nil
end

local function gg201(bufnr)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if diag_code(d) == 'GG201' then return d end
  end
  return nil
end

local function main()
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = 'python'
  local cmd_json = assert(os.getenv('GG_SERVER_CMD'), 'GG_SERVER_CMD not set')
  local cmd = vim.fn.json_decode(cmd_json)
  local config = {
    name = 'gradguard',
    cmd = cmd,
    root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h'),
    init_options = { settings = { enable = true, select = {}, ignore = {}, severity = vim.empty_dict(), logLevel = 'info' } },
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config, { bufnr = bufnr })
  else
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  assert(client_id, 'could not start the gradguard client')
  step('attached')

  -- 1. The diagnostic arrives.
  local ok = vim.wait(timeout, function() return gg201(bufnr) ~= nil end, 50)
  local d = gg201(bufnr)
  assert(ok and d, 'no GG201 diagnostic within ' .. timeout .. ' ms; got ' .. vim.inspect(vim.diagnostic.get(bufnr)))
  step('diagnostic', { lnum = d.lnum, col = d.col, source = d.source, message = d.message, severity = d.severity, code = diag_code(d) })

  -- 2. Hover on `.detach`.
  local line = vim.api.nvim_buf_get_lines(bufnr, d.lnum, d.lnum + 1, false)[1]
  local col = assert(line:find('detach', 1, true), 'no detach on the flagged line: ' .. line) - 1
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = d.lnum, character = col } }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, timeout)
  local hover_text
  for _, resp in pairs(responses or {}) do
    local c = resp.result and resp.result.contents
    if type(c) == 'table' then hover_text = c.value or vim.fn.json_encode(c) end
    if type(c) == 'string' then hover_text = c end
  end
  assert(hover_text, 'no hover: ' .. vim.inspect(responses))
  step('hover', hover_text)

  -- 3. The real code action UI, with vim.ui.select picking the quick fix.
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, col })
  local offered = {}
  local picked
  vim.ui.select = function(items, opts, on_choice)
    local chosen, chosen_idx
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or vim.inspect(item)
      table.insert(offered, title)
      if chosen == nil and title:lower():find('detach', 1, true) then chosen, chosen_idx = item, i end
    end
    if chosen == nil and #items > 0 then chosen, chosen_idx = items[1], 1 end
    picked = chosen_idx and offered[chosen_idx]
    on_choice(chosen, chosen_idx)
  end
  local before = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  vim.lsp.buf.code_action()
  ok = vim.wait(timeout, function()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') ~= before
  end, 50)
  assert(ok, 'the code action did not change the buffer; offered: ' .. vim.inspect(offered))
  step('code_action', { offered = offered, picked = picked })

  -- 4. The diagnostic clears after the edit.
  ok = vim.wait(timeout, function() return gg201(bufnr) == nil end, 50)
  assert(ok, 'GG201 still reported after the fix: ' .. vim.inspect(vim.diagnostic.get(bufnr)))
  step('cleared', { remaining = #vim.diagnostic.get(bufnr) })

  -- 5. Save.
  vim.cmd('write')
  step('written', vim.api.nvim_buf_get_name(bufnr))
end

local ok, err = xpcall(main, debug.traceback)
if not ok then report.error = tostring(err) end
write_report()
for _, client in pairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
  client.stop()
end
vim.wait(2000, function()
  return #((vim.lsp.get_clients or vim.lsp.get_active_clients)()) == 0
end, 50)
vim.cmd(ok and 'qall!' or 'cquit 1')
