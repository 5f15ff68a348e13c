export { VoicemailNotFoundError, VoicemailRepository, type VoicemailCreate, type VoicemailRecord } from './repository.js';
export { VoicemailService, type LeaveMessageOptions, type VoicemailLeg } from './service.js';
