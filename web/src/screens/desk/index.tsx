/** The desk view (issue 14: map, live progress, review queue, facility page,
 * championship, exports, roll-ups) for coaches, champions and managers. Its code
 * lives in src/desk/ (views, map, charts, strings) and routes itself below `/desk`. */
export { default } from "../../desk/DeskApp";
