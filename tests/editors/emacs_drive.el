;;; emacs_drive.el --- drive eglot against the gradguard server in `emacs --batch'  -*- lexical-binding: t -*-
;;
;; Emacs 28 + Debian's elpa-eglot 1.9 (loaded from site-start, so run `emacs --batch', not -Q).
;; Inputs (environment): GG_SERVER_CMD (JSON array: the server command), GG_FILE (the file to edit),
;;   GG_REPORT (path of the JSON report), GG_TIMEOUT_MS.
;; Steps: configure eglot the way a user would (eglot-server-programs), visit the file, start eglot,
;; wait for GG201 in flymake's diagnostics, hover on `.detach' (eglot's eldoc hover function),
;; run the real interactive `eglot-code-actions' at point (completing-read answers with the
;; preferred action, as RET on the default would), wait for the diagnostic to clear, save, quit.
;; `--batch' never goes idle, so while waiting the driver runs the idle timers itself (eglot's
;; didChange and flymake's re-check hang off them).

(require 'cl-lib)
(require 'json)
(require 'eglot)
(require 'flymake)
(require 'python)

(defvar gg-steps nil)
(defvar gg-report nil "Alist of step data, most recent first.")
(defvar gg-timeout (/ (string-to-number (or (getenv "GG_TIMEOUT_MS") "30000")) 1000.0))
(defvar gg-t0 (float-time))

(defvar gg-published nil "Codes of each textDocument/publishDiagnostics eglot handled, most recent first.")
(advice-add 'eglot-handle-notification :after
            (lambda (_server method &rest params)
              (when (eq method 'textDocument/publishDiagnostics)
                (push (mapcar (lambda (d) (plist-get d :code))
                              (append (plist-get params :diagnostics) nil))
                      gg-published))))

(defun gg-step (name &optional data)
  (push (cons name (- (float-time) gg-t0)) gg-steps)
  (when data (push (cons (intern name) data) gg-report)))

(defun gg-run-idle-timers ()
  "Do what interactive Emacs does once the user stops typing: run the pending idle timers.
`--batch' has no command loop, so idle timers never fire on their own; eglot sends didChange
and flymake re-checks from idle timers."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (timer-event-handler timer))))

(defun gg-wait (pred)
  "Process server output and timers (idle ones every 0.3 s, as if the user sat idle) until PRED
is non-nil or `gg-timeout' passes."
  (let ((deadline (+ (float-time) gg-timeout))
        (next-idle (+ (float-time) 0.3)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05)
      (when (>= (float-time) next-idle)
        (gg-run-idle-timers)
        (setq next-idle (+ (float-time) 0.3))))
    (funcall pred)))

(defun gg-diag-code (d)
  (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))) :code))

(defun gg-gg201 ()
  (cl-find-if (lambda (d) (equal (gg-diag-code d) "GG201")) (flymake-diagnostics)))

(defun gg-all-diags ()
  (vconcat (mapcar (lambda (d) (format "%s@%d: %s" (gg-diag-code d)
                                       (line-number-at-pos (flymake-diagnostic-beg d))
                                       (flymake-diagnostic-text d)))
                   (flymake-diagnostics))))

(defun gg-main ()
  ;; The user's configuration: one line in init.el.
  (let ((server-cmd (append (json-read-from-string (getenv "GG_SERVER_CMD")) nil)))
    (add-to-list 'eglot-server-programs `(python-mode . ,server-cmd)))

  (find-file (getenv "GG_FILE"))
  (unless (eq major-mode 'python-mode) (error "not in python-mode: %s" major-mode))
  (apply #'eglot (eglot--guess-contact))
  (unless (gg-wait (lambda () (and (eglot-current-server) eglot--managed-mode)))
    (error "eglot did not manage the buffer within %ss" gg-timeout))
  (gg-step "attached" (jsonrpc-name (eglot-current-server)))

  ;; 1. The diagnostic arrives in flymake.
  (unless (gg-wait #'gg-gg201)
    (error "no GG201 in flymake-diagnostics within %ss; got %S" gg-timeout (gg-all-diags)))
  (let ((d (gg-gg201)))
    (gg-step "diagnostic"
             `((lnum . ,(1- (line-number-at-pos (flymake-diagnostic-beg d))))
               (code . ,(gg-diag-code d))
               (source . ,(plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))) :source))
               (type . ,(symbol-name (flymake-diagnostic-type d)))
               (text . ,(flymake-diagnostic-text d))))
    (goto-char (flymake-diagnostic-beg d)))

  ;; 2. Hover on `.detach', through the function eldoc calls for eglot.
  (beginning-of-line)
  (unless (search-forward ".detach" (line-end-position) t)
    (error "no .detach on the flagged line: %s" (thing-at-point 'line)))
  (backward-char 3)                      ; inside `detach'
  (let (hover)
    (unless (eglot-hover-eldoc-function (lambda (info &rest _) (setq hover (or info ""))))
      (error "eglot-hover-eldoc-function declined: no hoverProvider?"))
    (unless (gg-wait (lambda () hover)) (error "no hover within %ss" gg-timeout))
    (gg-step "hover" (substring-no-properties hover)))

  ;; 3. The real interactive code-action command. `last-nonmenu-event' must not be a list (or
  ;;    eglot pops an x-popup-menu); completing-read answers like RET on the default, which
  ;;    eglot sets to the server's preferred (isPreferred) action.
  (let* ((before (buffer-string))
         (published-before (length gg-published))
         offered default picked
         (completing-read-function
          (lambda (_prompt collection &optional _pred _req _init _hist def &rest _)
            (setq offered (all-completions "" collection)
                  default (if (consp def) (car def) def)
                  picked (or (cl-find-if (lambda (title) (string-match-p "Remove `\\.detach()`" title))
                                         offered)
                             default))
            picked))
         (last-nonmenu-event ?\r))
    (call-interactively #'eglot-code-actions)
    (unless (gg-wait (lambda () (not (equal (buffer-string) before))))
      (error "the code action did not change the buffer; offered %S" offered))
    (gg-step "code_action" `((offered . ,(vconcat offered)) (default . ,default) (picked . ,picked)))

    ;; 4. The diagnostic clears: the edit alone deletes flymake's overlay, so first wait for the
    ;;    server to publish again for the edited text, then for flymake to show no GG201.
    (unless (gg-wait (lambda () (> (length gg-published) published-before)))
      (error "no publishDiagnostics after the edit within %ss" gg-timeout))
    (when (member "GG201" (car gg-published))
      (error "the server still publishes GG201 after the fix: %S" (car gg-published)))
    (unless (gg-wait (lambda () (null (gg-gg201))))
      (error "GG201 still in flymake after the fix: %S" (gg-all-diags)))
    (gg-step "cleared" `((published . ,(vconcat (car gg-published))) (flymake . ,(gg-all-diags)))))

  ;; 5. Save.
  (save-buffer)
  (gg-step "written" buffer-file-name))

(defun gg-write-report (err)
  (let ((report `((steps . ,(vconcat (mapcar #'car (reverse gg-steps))))
                  (timings . ,(mapcar (lambda (s) (cons (intern (car s)) (cdr s))) (reverse gg-steps)))
                  (emacs . ,emacs-version)
                  (eglot . ,(file-name-nondirectory (directory-file-name (file-name-directory (locate-library "eglot")))))
                  ,@(reverse gg-report)
                  ,@(when err `((error . ,err))))))
    (with-temp-file (getenv "GG_REPORT")
      (insert (json-encode report)))))

(let ((err (condition-case e (progn (gg-main) nil)
             (error (error-message-string e))))
      (server (ignore-errors (eglot-current-server))))
  (push (cons 'published (vconcat (mapcar #'vconcat (reverse gg-published)))) gg-report)
  (when (and server (getenv "GG_EVENTS"))       ; the JSON-RPC log, for debugging a failure
    (ignore-errors
      (with-current-buffer (jsonrpc-events-buffer server)
        (write-region nil nil (getenv "GG_EVENTS")))))
  (when server
    ;; eglot sends shutdown + exit, then deletes the process (jsonrpc then logs "status 9").
    (condition-case e (progn (eglot-shutdown server nil 5) (gg-step "shutdown"))
      (error (push (cons 'shutdown_error (error-message-string e)) gg-report))))
  (gg-write-report err)
  (kill-emacs (if err 1 0)))

;;; emacs_drive.el ends here
