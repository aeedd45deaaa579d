export default class PlainCard {}
