-- Drives Neovim's built-in LSP client (0.11: vim.lsp.start) on a two-file project, headless.
-- Inputs (environment): GG_SERVER_CMD (JSON array), GG_REPORT (path of the JSON report), GG_TIMEOUT_MS.
-- The current buffer is train.py. Steps: attach; the GG201 for model.py arrives although only train.py is open;
-- open model.py (the client attaches to it); run the real vim.lsp.buf.code_action() there with vim.ui.select
-- answering; wait for the diagnostic to clear; write model.py; quit.

local report = { steps = {} }
local report_path = assert(os.getenv('GG_REPORT'), 'GG_REPORT not set')
local timeout = tonumber(os.getenv('GG_TIMEOUT_MS') or '30000')

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
  local train = vim.api.nvim_get_current_buf()
  vim.bo[train].filetype = 'python'
  local root = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(train), ':p:h')
  local config = { name = 'gradguard', cmd = vim.fn.json_decode(os.getenv('GG_SERVER_CMD')), root_dir = root }
  assert(vim.lsp.start(config, { bufnr = train }), 'could not start the gradguard client')
  step('attached')

  -- 1. The finding in model.py arrives while only train.py is open.
  local model_uri = vim.uri_from_fname(root .. '/model.py')
  local model = vim.uri_to_bufnr(model_uri)
  local ok = vim.wait(timeout, function() return gg201(model) ~= nil end, 50)
  assert(ok, 'no GG201 for model.py within ' .. timeout .. ' ms: ' .. vim.inspect(vim.diagnostic.get()))
  local d = gg201(model)
  step('diagnostic_in_closed_file', { lnum = d.lnum, message = d.message, train_diagnostics = #vim.diagnostic.get(train) })

  -- 2. Open model.py; the client attaches to it (same root).
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/model.py'))
  model = vim.api.nvim_get_current_buf()
  vim.bo[model].filetype = 'python'
  vim.lsp.start(config, { bufnr = model })
  ok = vim.wait(timeout, function() return gg201(model) ~= nil and #vim.lsp.get_clients({ bufnr = model }) > 0 end, 50)
  assert(ok, 'model.py lost its GG201 once opened: ' .. vim.inspect(vim.diagnostic.get(model)))
  d = gg201(model)
  step('opened')

  -- 3. The real code action UI on the flagged line of model.py.
  local line = vim.api.nvim_buf_get_lines(model, d.lnum, d.lnum + 1, false)[1]
  local col = assert(line:find('detach', 1, true), 'no detach on the flagged line: ' .. line) - 1
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, col })
  local offered, picked = {}, nil
  vim.ui.select = function(items, opts, on_choice)
    local chosen_idx
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or vim.inspect(item)
      table.insert(offered, title)
      if chosen_idx == nil and title:lower():find('detach', 1, true) then chosen_idx = i end
    end
    chosen_idx = chosen_idx or 1
    picked = offered[chosen_idx]
    on_choice(items[chosen_idx], chosen_idx)
  end
  local before = table.concat(vim.api.nvim_buf_get_lines(model, 0, -1, false), '\n')
  vim.lsp.buf.code_action()
  ok = vim.wait(timeout, function()
    return table.concat(vim.api.nvim_buf_get_lines(model, 0, -1, false), '\n') ~= before
  end, 50)
  assert(ok, 'the code action did not change model.py; offered: ' .. vim.inspect(offered))
  step('code_action', { offered = offered, picked = picked })

  -- 4. The diagnostic clears, and model.py is written.
  ok = vim.wait(timeout, function() return gg201(model) == nil end, 50)
  assert(ok, 'GG201 still reported after the fix: ' .. vim.inspect(vim.diagnostic.get(model)))
  step('cleared')
  vim.cmd('write')
  step('written')
end

local ok, err = xpcall(main, debug.traceback)
if not ok then report.error = tostring(err) end
local f = assert(io.open(report_path, 'w'))
f:write(vim.fn.json_encode(report))
f:close()
for _, client in pairs(vim.lsp.get_clients()) do client.stop() end
vim.wait(2000, function() return #vim.lsp.get_clients() == 0 end, 50)
vim.cmd(ok and 'qall!' or 'cquit 1')
