-- A chat time taken for a stream is held on the user's row until the stream's
-- exchange is recorded (the answer row then stands for it) or the time goes
-- back. A copy killed in between leaves the hold behind, and the sweep gives
-- held times back once no stream can still own them (chat_times_held_at, the
-- latest take, is older than a stream's lifetime).
ALTER TABLE chat_user
  ADD COLUMN chat_times_held int NOT NULL DEFAULT 0,
  ADD COLUMN chat_times_held_at datetime(3) NULL,
  ADD KEY idx_user_chat_times_held_at (chat_times_held_at);
