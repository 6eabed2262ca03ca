package server

// ReaperRunning reports whether Serve started the reaper and it has not
// stopped yet: what Shutdown and Close must leave false.
func (s *Server) ReaperRunning() bool {
	s.mu.Lock()
	started := s.cancel != nil
	s.mu.Unlock()
	if !started {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}
