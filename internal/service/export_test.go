package service

// WakeHooks rings the delivery loop's bell, as a local commit's wake-up
// does once its batch is durable: the loop reads its subscriptions' events
// at once, whatever else has committed meanwhile.
func WakeHooks(s *Service) { s.wakeHooks() }
