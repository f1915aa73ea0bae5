/** The application shell; features mount their screens here. */
export function App() {
  return <main><h1>Cordon</h1></main>;
}
