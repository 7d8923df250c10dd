// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The API calls of the visitor pages (module property_visitor), all through
// the one client.
import { api } from './client.js'

const id = (value) => encodeURIComponent(value)

// Hosts: merchants and tenants
export const hostUnits = () => api.get('/host/units')
export const invite = (body) => api.post('/visits/invitations', body)
export const hostVisits = ({ state = '', offset = 0, limit = 20 } = {}) =>
  api.get('/host/visits', { state, offset, limit })
export const hostVisit = (visitId) => api.get(`/host/visits/${id(visitId)}`)
export const approveVisit = (visitId) => api.post(`/host/visits/${id(visitId)}/approve`)
export const rejectVisit = (visitId, reason) => api.post(
  `/host/visits/${id(visitId)}/reject`, reason ? { reason } : {})
export const cancelHostVisit = (visitId) => api.post(`/host/visits/${id(visitId)}/cancel`)

// Card batches
export const requestBatch = (body) => api.post('/card-batches', body)
export const batches = ({ state = '', offset = 0, limit = 20 } = {}) =>
  api.get('/card-batches', { state, offset, limit })
export const batch = (batchId) => api.get(`/card-batches/${id(batchId)}`)
export const issueCard = (batchId, visitorName) => api.post(
  `/card-batches/${id(batchId)}/cards`,
  visitorName ? { visitor_name: visitorName } : {})
export const cancelBatch = (batchId) => api.post(`/card-batches/${id(batchId)}/cancel`)

// Visitors: any signed-in account
export const applyVisit = (body) => api.post('/visits/applications', body)
export const myVisits = ({ state = '', offset = 0, limit = 20 } = {}) =>
  api.get('/visits/mine', { state, offset, limit })
export const myVisit = (visitId) => api.get(`/visits/mine/${id(visitId)}`)
export const cancelMyVisit = (visitId) => api.post(`/visits/mine/${id(visitId)}/cancel`)

// Passes
export const getPass = (passId) => api.get(`/passes/${id(passId)}`)
export const sharedPass = (key) => api.get(`/passes/shared/${id(key)}`)
export const passCode = (passId) => api.get(`/passes/${id(passId)}/code`)
// The static QR as a PNG file, e.g. to send to an elderly visitor
export const passImage = (passId) => api.download(
  `/passes/${id(passId)}/qr.png`, { mode: 'static', scale: 10 })

// Technicians
export const estates = () => api.get('/estates')
export const recordPassage = (body) => api.post('/technician/passages', body)
export const passages = ({ offset = 0, limit = 20 } = {}) =>
  api.get('/technician/passages', { offset, limit })
